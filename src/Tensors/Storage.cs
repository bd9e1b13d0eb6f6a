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
