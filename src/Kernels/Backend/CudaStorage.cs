using PromptAD.Tensors;

namespace PromptAD.Kernels;

/// <summary>Float32 device memory of a <see cref="CudaBackend"/>: a block of its memory pool.</summary>
public sealed class CudaStorage : Storage
{
    private readonly DeviceMemoryPool pool;

    internal CudaStorage(CudaBackend backend, DeviceMemoryPool pool, long length) : base(backend, length)
    {
        this.pool = pool;
        pointer = pool.Rent((ulong)Math.Max(1, length) * sizeof(float));
    }

    ~CudaStorage() => Dispose();

    /// <summary>The device address of element 0 (0 once released).</summary>
    public ulong Pointer => Volatile.Read(ref pointer);

    // Taken with Interlocked.Exchange on release, so a Dispose and a finalizer that race (the JIT may let `this` die
    // inside Dispose) return each block exactly once.
    private ulong pointer;
    private ulong bf16Copy;

    /// <summary>
    /// The device address of a BF16 copy of the whole storage, converted on first use and kept as long as the storage:
    /// only for frozen storage (<see cref="Storage.IsFrozen"/>), whose contents cannot change after the copy is made.
    /// The copy belongs to this object, so a later storage at the same address never sees it.
    /// </summary>
    internal ulong Bf16Copy(CudaBackend backend)
    {
        if (!IsFrozen) throw new InvalidOperationException("a BF16 copy is kept only for frozen storage (weights), whose contents cannot change");
        ObjectDisposedException.ThrowIf(Pointer == 0, this);
        lock (pool)
        {
            if (bf16Copy == 0)
            {
                ulong copy = pool.Rent((ulong)Math.Max(1, Length) * sizeof(ushort));
                backend.ConvertToBf16(Pointer, copy, Length);
                bf16Copy = copy;
            }
            return bf16Copy;
        }
    }

    protected override void Release()
    {
        ulong p = Interlocked.Exchange(ref pointer, 0);
        if (p == 0) return;
        ulong copy;
        lock (pool) copy = Interlocked.Exchange(ref bf16Copy, 0); // Bf16Copy sets it under the same lock
        // A finalizer may run after the runtime was disposed (process exit); the device memory is gone with it then.
        // A fault the driver reports at a free is not dropped: the runtime keeps it for the next synchronization.
        try
        {
            pool.Return(p);
            if (copy != 0) pool.Return(copy);
        }
        catch (ObjectDisposedException) { }
    }
}
