using PromptAD.Tensors;

namespace PromptAD.Kernels;

/// <summary>Float32 device memory of a <see cref="CudaBackend"/>: a block of its memory pool.</summary>
public sealed class CudaStorage : Storage
{
    private readonly DeviceMemoryPool pool;

    internal CudaStorage(CudaBackend backend, DeviceMemoryPool pool, long length) : base(backend, length)
    {
        this.pool = pool;
        Pointer = pool.Rent((ulong)Math.Max(1, length) * sizeof(float));
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
        try { pool.Return(p); }
        catch (Exception e) when (e is ObjectDisposedException or CudaException) { }
    }
}
