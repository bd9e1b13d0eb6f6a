using System.Collections.Concurrent;

namespace PromptAD.Evaluation;

/// <summary>
/// Holds what may not fit in memory (score maps of a whole test set): written once from start to end, then read back
/// any number of times with <see cref="OpenRead"/>. It stays in memory while every spill of the process together holds
/// at most <see cref="MemoryBudgetBytes"/>, so that a test set of the usual size never waits on the disk (a disk shared
/// with other work made the metrics of one run take seconds); past that it moves to a temporary file, deleted when
/// disposed and by the OS when the process dies (DeleteOnClose).
/// </summary>
internal sealed class SpillFile : IDisposable
{
    /// <summary>Bytes all spills of the process may keep in memory together (512 MiB; tests lower it).</summary>
    internal static long MemoryBudgetBytes { get; set; } = 512L << 20;

    private const int BufferBytes = 1 << 20;
    private const int ChunkBytes = 1 << 20;
    private static long s_inMemory;

    /// <summary>Idle chunks kept for the process's next spill (at most <see cref="MaxIdleChunks"/>). An evaluation writes
    /// ~100 MB of pixels and its key ranges as much again; fresh chunks are zero pages that the kernel faults in one at a
    /// time, which cost more than the writes into them, and `run` evaluates the same test set many times.</summary>
    private static readonly ConcurrentBag<byte[]> s_idle = [];

    /// <summary>256 MiB: one bottle-sized evaluation's pixels and their ranges.</summary>
    private const int MaxIdleChunks = 256;

    private readonly string _prefix;
    private readonly int _writeBuffer;
    private readonly List<byte[]> _chunks = [];
    private long _reserved;
    private FileStream? _file;

    /// <param name="writeBuffer">Bytes buffered before a write reaches the file; callers that write large blocks
    /// themselves (one file per key range, many at once) pass a small one.</param>
    public SpillFile(string prefix, int writeBuffer = BufferBytes) => (_prefix, _writeBuffer) = (prefix, writeBuffer);

    /// <summary>The temporary file, or "memory" while the spill is held in memory.</summary>
    public string FilePath => _file?.Name ?? $"{_prefix} (in memory)";

    public long Length { get; private set; }

    /// <summary>Still held in memory (not moved to a temporary file).</summary>
    public bool InMemory => _file is null;

    public void Write(ReadOnlySpan<byte> bytes)
    {
        if (_file is null && !Reserve(Length + bytes.Length)) MoveToDisk();
        if (_file is not null) _file.Write(bytes);
        else
        {
            while (bytes.Length > 0)
            {
                int used = (int)(Length % ChunkBytes);
                if (used == 0) _chunks.Add(s_idle.TryTake(out var idle) ? idle : NewChunk());
                int n = Math.Min(bytes.Length, ChunkBytes - used);
                bytes[..n].CopyTo(_chunks[^1].AsSpan(used));
                bytes = bytes[n..];
                Length += n;
            }
            return;
        }
        Length += bytes.Length;
    }

    /// <summary>On the pinned heap: kept chunks outlive evaluations, and the compaction after each one (Evaluator) would
    /// otherwise copy every kept chunk to another place each time.</summary>
    private static byte[] NewChunk() => GC.AllocateUninitializedArray<byte>(ChunkBytes, pinned: true);

    /// <summary>A reader positioned at <paramref name="offset"/> (flushes pending file writes first).</summary>
    public Stream OpenRead(long offset = 0)
    {
        if (_file is null) return new ChunkReader(_chunks, Length) { Position = offset };
        _file.Flush();
        var reader = new FileStream(_file.Name, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, BufferBytes, FileOptions.SequentialScan);
        reader.Position = offset;
        return reader;
    }

    /// <summary>
    /// The whole spill from start to end in blocks of whole records of <paramref name="recordBytes"/> bytes each (a
    /// divisor of 1 MiB): in memory, the chunks themselves, without a copy; on disk, a buffer refilled for each block,
    /// so a block is valid only until the next one is asked for.
    /// </summary>
    public IEnumerable<ReadOnlyMemory<byte>> Blocks(int recordBytes)
    {
        if (recordBytes <= 0 || ChunkBytes % recordBytes != 0)
            throw new ArgumentOutOfRangeException(nameof(recordBytes), recordBytes, "records must divide the 1 MiB chunks");
        if (Length % recordBytes != 0) throw new IOException($"Spill file '{FilePath}' ends inside a record.");
        if (_file is null)
        {
            for (long at = 0; at < Length; at += ChunkBytes)
                yield return _chunks[(int)(at / ChunkBytes)].AsMemory(0, (int)Math.Min(ChunkBytes, Length - at));
            yield break;
        }

        using var stream = OpenRead();
        var buffer = new byte[ChunkBytes];
        while (true)
        {
            int bytes = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            if (bytes % recordBytes != 0) throw new IOException($"Spill file '{FilePath}' ends inside a record.");
            if (bytes == 0) yield break;
            yield return buffer.AsMemory(0, bytes);
            if (bytes < buffer.Length) yield break;
        }
    }

    /// <summary>Grows this spill's share of the process's memory budget to whole chunks covering <paramref name="bytes"/>.</summary>
    private bool Reserve(long bytes)
    {
        long need = (bytes + ChunkBytes - 1) / ChunkBytes * ChunkBytes;
        if (need <= _reserved) return true;
        if (Interlocked.Add(ref s_inMemory, need - _reserved) > MemoryBudgetBytes)
        {
            Interlocked.Add(ref s_inMemory, _reserved - need);
            return false;
        }
        _reserved = need;
        return true;
    }

    private void MoveToDisk()
    {
        string path = Path.Combine(Path.GetTempPath(), $"{_prefix}-{Environment.ProcessId}-{Guid.NewGuid():N}.tmp");
        _file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read, _writeBuffer, FileOptions.DeleteOnClose);
        for (int c = 0; c < _chunks.Count; c++)
            _file.Write(_chunks[c].AsSpan(0, (int)Math.Min(ChunkBytes, Length - (long)c * ChunkBytes)));
        Release();
    }

    private void Release()
    {
        foreach (var chunk in _chunks)
        {
            if (s_idle.Count >= MaxIdleChunks) break;
            s_idle.Add(chunk); // read only up to each spill's own length, so old contents never show
        }
        _chunks.Clear();
        Interlocked.Add(ref s_inMemory, -_reserved);
        _reserved = 0;
    }

    public void Dispose()
    {
        Release();
        _file?.Dispose();
    }

    /// <summary>A read-only stream over the in-memory chunks.</summary>
    private sealed class ChunkReader(List<byte[]> chunks, long length) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => true;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get; set; }

        public override int Read(Span<byte> buffer)
        {
            int total = 0;
            while (buffer.Length > 0 && Position < length)
            {
                int c = (int)(Position / ChunkBytes), at = (int)(Position % ChunkBytes);
                int n = (int)Math.Min(Math.Min(buffer.Length, ChunkBytes - at), length - Position);
                chunks[c].AsSpan(at, n).CopyTo(buffer);
                buffer = buffer[n..];
                Position += n;
                total += n;
            }
            return total;
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => Position + offset,
            _ => length + offset,
        };

        public override void Flush() { }
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
