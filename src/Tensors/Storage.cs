namespace PromptAD.Tensors;

/// <summary>
/// A block of float32 memory owned by one backend (host memory for the CPU backend, device memory for CUDA).
/// Tensors point into a storage at an element offset, so row-range views share it without copying.
/// </summary>
public abstract class Storage : IDisposable
{
    protected Storage(IBackend backend, long length)
    {
        Backend = backend;
        Length = length;
    }

    public IBackend Backend { get; }

    /// <summary>Number of float32 elements.</summary>
    public long Length { get; }

    public bool IsDisposed { get; private set; }

    /// <summary>
    /// Whether the contents are final (<see cref="Freeze"/>): frozen model weights. A backend may then keep derived copies
    /// of them (the GPU's BF16 weights) and refuses to write into them.
    /// </summary>
    public bool IsFrozen { get; private set; }

    /// <summary>Declares the contents final; call it once they are written (e.g. after a weight's upload).</summary>
    public void Freeze() => IsFrozen = true;

    public void Dispose()
    {
        if (IsDisposed) return;
        IsDisposed = true;
        Release();
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees the memory; called once.</summary>
    protected abstract void Release();
}
