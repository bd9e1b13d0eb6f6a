using PromptAD.Kernels.Native;

namespace PromptAD.Kernels;

/// <summary>A CUDA stream. Non-blocking by default so it never serializes with the legacy NULL stream.</summary>
public sealed class CudaStream : ContextBoundHandle
{
    /// <summary>CU_STREAM_NON_BLOCKING.</summary>
    public const uint NonBlocking = 1;

    public CudaStream(CudaContext context, uint flags = NonBlocking) : base(context)
    {
        context.MakeCurrent();
        CUresult r = CudaDriver.cuStreamCreate(out nint stream, flags);
        if (r != CUresult.Success) ReleaseContextReference();
        CudaException.Check(r, "cuStreamCreate");
        SetHandle(stream);
    }

    /// <summary>The raw CUstream for launches and cuBLAS.</summary>
    public nint Handle => handle;

    public void Synchronize() => CudaException.Check(CudaDriver.cuStreamSynchronize(handle), "cuStreamSynchronize");

    protected override CUresult Free() => CudaDriver.cuStreamDestroy_v2(handle);
}
