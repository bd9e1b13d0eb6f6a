using System.Runtime.InteropServices;

namespace PromptAD.Tensors.Cpu;

/// <summary>64-byte aligned native host memory (one AVX-512 register per cache line), freed on Dispose or,
/// as a safety net, by the finalizer. Large blocks are reused through <see cref="HostBlockPool"/>.</summary>
public sealed unsafe class CpuStorage : Storage
{
    internal CpuStorage(IBackend backend, long length) : base(backend, length)
    {
        nuint bytes = (nuint)Math.Max(1, length) * sizeof(float);
        Pointer = HostBlockPool.Rent(bytes);
        if (Pointer == null) throw new OutOfMemoryException($"could not allocate {bytes} bytes of host memory");
        GC.AddMemoryPressure((long)bytes);
    }

    /// <summary>Memory owned elsewhere (a weights file's read-only mapping), used where it lies: never freed here, and
    /// frozen, since the owner's pages may be read-only or shared with other processes.</summary>
    internal CpuStorage(IBackend backend, float* borrowed, long length) : base(backend, length)
    {
        Pointer = borrowed;
        _borrowed = true;
        Freeze();
    }

    private readonly bool _borrowed;

    /// <summary>Whether the memory is owned elsewhere (see the borrowing constructor).</summary>
    public bool IsBorrowed => _borrowed;

    ~CpuStorage() => Dispose();

    public float* Pointer { get; private set; }

    protected override void Release()
    {
        if (Pointer == null) return;
        if (_borrowed)
        {
            Pointer = null;
            return;
        }
        HostBlockPool.Return(Pointer, (nuint)Math.Max(1, Length) * sizeof(float));
        Pointer = null;
        GC.RemoveMemoryPressure(Math.Max(1, Length) * sizeof(float));
    }
}
