using PromptAD.Tensors;

namespace PromptAD.Kernels;

/// <summary>Float32 device memory of a <see cref="CudaBackend"/>: a device address from its runtime.</summary>
public sealed class CudaStorage : Storage
{
    private readonly IDeviceRuntime runtime;

    internal CudaStorage(CudaBackend backend, IDeviceRuntime runtime, long length) : base(backend, length)
    {
        this.runtime = runtime;
        Pointer = runtime.Allocate((ulong)Math.Max(1, length) * sizeof(float));
    }

    ~CudaStorage() => Dispose();

    /// <summary>The device address of element 0 (0 once released).</summary>
    public ulong Pointer { get; private set; }

    protected override void Release()
    {
        if (Pointer == 0) return;
        ulong p = Pointer;
        Pointer = 0;
        // A finalizer may run after the runtime was disposed (process exit); the device memory is gone with it then.
        try { runtime.Free(p); }
        catch (Exception e) when (e is ObjectDisposedException or CudaException) { }
    }
}
