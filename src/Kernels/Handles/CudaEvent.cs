using PromptAD.Kernels.Native;

namespace PromptAD.Kernels;

/// <summary>A CUDA event, for timing kernels (<see cref="ElapsedMilliseconds"/>) and ordering streams.</summary>
public sealed class CudaEvent : ContextBoundHandle
{
    /// <summary>CU_EVENT_DISABLE_TIMING: cheaper when the event only orders work.</summary>
    public const uint DisableTiming = 2;

    public CudaEvent(CudaContext context, uint flags = 0) : base(context)
    {
        context.MakeCurrent();
        CUresult r = CudaDriver.cuEventCreate(out nint evt, flags);
        if (r != CUresult.Success) ReleaseContextReference();
        CudaException.Check(r, "cuEventCreate");
        SetHandle(evt);
    }

    public nint Handle => handle;

    public void Record(CudaStream stream) => CudaException.Check(CudaDriver.cuEventRecord(handle, stream.Handle), "cuEventRecord");

    public void Synchronize() => CudaException.Check(CudaDriver.cuEventSynchronize(handle), "cuEventSynchronize");

    /// <summary>Milliseconds between two recorded events (both must have completed; call <see cref="Synchronize"/> on the end).</summary>
    public static float ElapsedMilliseconds(CudaEvent start, CudaEvent end)
    {
        CudaException.Check(CudaDriver.cuEventElapsedTime(out float ms, start.Handle, end.Handle), "cuEventElapsedTime");
        return ms;
    }

    protected override CUresult Free() => CudaDriver.cuEventDestroy_v2(handle);
}
