namespace PromptAD.Terminal;

/// <summary>
/// An <see cref="IProgress{T}"/> that calls back on the reporting thread. <see cref="Progress{T}"/> posts to the
/// thread pool, so its bars would lag behind, interleave with later output, or fire after the work finished.
/// </summary>
internal sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
