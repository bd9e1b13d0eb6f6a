namespace PromptAD.Evaluation;

/// <summary>
/// A temporary file that holds what would not fit in memory (score maps of a whole test set); deleted when disposed,
/// and by the OS when the process dies (DeleteOnClose). Written once from start to end, then read back any number of
/// times with <see cref="OpenRead"/>.
/// </summary>
internal sealed class SpillFile : IDisposable
{
    private const int BufferBytes = 1 << 20;
    private readonly FileStream _file;

    /// <param name="writeBuffer">Bytes buffered before a write reaches the file; callers that write large blocks
    /// themselves (one file per key range, many at once) pass a small one.</param>
    public SpillFile(string prefix, int writeBuffer = BufferBytes)
    {
        string path = Path.Combine(Path.GetTempPath(), $"{prefix}-{Environment.ProcessId}-{Guid.NewGuid():N}.tmp");
        _file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read, writeBuffer, FileOptions.DeleteOnClose);
        FilePath = path;
    }

    public string FilePath { get; }

    public long Length => _file.Length;

    public void Write(ReadOnlySpan<byte> bytes) => _file.Write(bytes);

    /// <summary>A second handle on the written file, positioned at <paramref name="offset"/> (flushes pending writes first).</summary>
    public FileStream OpenRead(long offset = 0)
    {
        _file.Flush();
        var reader = new FileStream(FilePath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, BufferBytes, FileOptions.SequentialScan);
        reader.Position = offset;
        return reader;
    }

    public void Dispose() => _file.Dispose();
}
