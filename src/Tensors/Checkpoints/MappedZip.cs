using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.MemoryMappedFiles;
using System.Text;

namespace PromptAD.Tensors.Checkpoints;

/// <summary>
/// A zip archive read from its central directory over a memory mapping. Our own reader rather than
/// System.IO.Compression's ZipArchive because stored entries (what torch.save writes: uncompressed, 64-byte aligned)
/// are read in place from the mapping, which needs each entry's data offset; ZipArchive does not expose it. Deflated
/// entries are inflated into memory, never past their declared size or <see cref="MaxInflatedBytes"/>.
/// Every entry is validated at <see cref="Open"/>: names (no path traversal, no duplicates), methods, and data ranges
/// inside the file and before the directory. Nothing is ever extracted to disk.
/// </summary>
internal sealed unsafe class MappedZip : IDisposable
{
    /// <summary>Largest entry inflated into memory (a deflated storage or pickle); real pickles are under 1 MB.</summary>
    internal const long MaxInflatedBytes = 1L << 30;

    /// <summary>More entries than any checkpoint holds (a ViT-L TorchScript archive has under 2 000).</summary>
    internal const int MaxEntries = 1 << 20;

    private const uint LocalSignature = 0x04034b50, CentralSignature = 0x02014b50, EndSignature = 0x06054b50;
    private const uint Zip64EndSignature = 0x06064b50, Zip64LocatorSignature = 0x07064b50;

    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _base;
    private readonly Dictionary<string, ZipEntry> _entries;
    private bool _disposed;

    private MappedZip(string path, long length, MemoryMappedFile map, MemoryMappedViewAccessor view, byte* basePointer, Dictionary<string, ZipEntry> entries)
    {
        FilePath = path;
        Length = length;
        _map = map;
        _view = view;
        _base = basePointer;
        _entries = entries;
    }

    public string FilePath { get; }
    public long Length { get; }

    /// <summary>Entry names in directory order.</summary>
    public IEnumerable<string> Names => _entries.Keys;

    /// <summary>One validated entry: <see cref="DataOffset"/> is where its (compressed) bytes start in the file.</summary>
    internal sealed record ZipEntry(string Name, int Method, long CompressedSize, long Size, long DataOffset);

    /// <summary>True when the file starts like a zip archive (a local header, or the end record of an empty one).</summary>
    public static bool LooksLikeZip(ReadOnlySpan<byte> head) =>
        head.Length >= 4 && head[0] == 'P' && head[1] == 'K' && ((head[2] == 3 && head[3] == 4) || (head[2] == 5 && head[3] == 6));

    public static MappedZip Open(string path)
    {
        string fullPath = Path.GetFullPath(path);
        var stream = new FileStream(fullPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.None);
        MemoryMappedFile? map = null;
        MemoryMappedViewAccessor? view = null;
        bool acquired = false;
        try
        {
            long length = stream.Length;
            if (length < 22) throw Truncated(fullPath, $"the file is {length} bytes, shorter than a zip end record (22)");
            map = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            stream = null!;
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* p = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            acquired = true;
            p += view.PointerOffset;
            var entries = ReadDirectory(fullPath, p, length);
            return new MappedZip(fullPath, length, map, view, p, entries);
        }
        catch
        {
            if (acquired) view!.SafeMemoryMappedViewHandle.ReleasePointer();
            view?.Dispose();
            map?.Dispose();
            stream?.Dispose();
            throw;
        }
    }

    public bool Contains(string name) => _entries.ContainsKey(name);

    public ZipEntry Entry(string name) => _entries.TryGetValue(name, out var e) ? e
        : throw new CheckpointFormatException(FilePath, CheckpointProblem.MissingRecord, $"the archive has no entry '{name}'");

    /// <summary>
    /// A stored entry's bytes straight from the mapping (valid until Dispose), or null when the entry is deflated
    /// (then use <see cref="Inflate"/>).
    /// </summary>
    public ReadOnlySpan<byte> Stored(ZipEntry entry, long offset, long count)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (entry.Method != 0) throw new InvalidOperationException($"entry '{entry.Name}' is compressed");
        if (offset < 0 || count < 0 || offset > entry.Size - count || count > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(offset), $"[{offset}, +{count}) is outside entry '{entry.Name}' ({entry.Size} bytes)");
        return new ReadOnlySpan<byte>(_base + entry.DataOffset + offset, (int)count);
    }

    /// <summary>The entry's whole content as an array: copied when stored, inflated (bounded by <paramref name="cap"/>) when deflated.</summary>
    public byte[] ReadAll(ZipEntry entry, long cap)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (entry.Size > cap)
            throw new CheckpointFormatException(FilePath, entry.Method == 0 ? CheckpointProblem.TooDeep : CheckpointProblem.CompressionBomb,
                $"entry '{entry.Name}' declares {entry.Size} bytes, over the {cap}-byte limit for it");
        if (entry.Method == 0) return new ReadOnlySpan<byte>(_base + entry.DataOffset, (int)entry.Size).ToArray();
        return Inflate(entry);
    }

    /// <summary>Inflates a deflated entry to exactly its declared size; more or less output is refused.</summary>
    public byte[] Inflate(ZipEntry entry)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (entry.Size > MaxInflatedBytes)
            throw new CheckpointFormatException(FilePath, CheckpointProblem.CompressionBomb,
                $"entry '{entry.Name}' would inflate to {entry.Size} bytes, over the {MaxInflatedBytes}-byte limit");
        var result = new byte[entry.Size];
        using var source = new UnmanagedMemoryStream(_base + entry.DataOffset, entry.CompressedSize);
        using var inflater = new DeflateStream(source, CompressionMode.Decompress);
        int filled = 0;
        try
        {
            while (filled < result.Length)
            {
                int n = inflater.Read(result, filled, result.Length - filled);
                if (n == 0) break;
                filled += n;
            }
            Span<byte> probe = stackalloc byte[1];
            if (filled < result.Length)
                throw new CheckpointFormatException(FilePath, CheckpointProblem.TruncatedArchive,
                    $"entry '{entry.Name}' inflates to {filled} bytes, not the {entry.Size} its directory declares");
            if (inflater.Read(probe) != 0)
                throw new CheckpointFormatException(FilePath, CheckpointProblem.CompressionBomb,
                    $"entry '{entry.Name}' inflates past the {entry.Size} bytes its directory declares");
        }
        catch (InvalidDataException e)
        {
            throw new CheckpointFormatException(FilePath, CheckpointProblem.TruncatedArchive, $"entry '{entry.Name}' is not valid deflate data ({e.Message})", e);
        }
        return result;
    }

    private static Dictionary<string, ZipEntry> ReadDirectory(string path, byte* p, long length)
    {
        // The end record is in the last 22 + 65535 bytes (its comment is at most 65535 bytes); search backwards.
        long end = -1;
        for (long i = length - 22; i >= Math.Max(0, length - 22 - 65535); i--)
        {
            if (U32(p, i) == EndSignature && i + 22 + U16(p, i + 20) == length) { end = i; break; }
        }
        if (end < 0)
            throw Truncated(path, "no zip end-of-central-directory record at its end (the file is cut short, or not a zip archive)");

        long count = U16(p, end + 10);
        long directorySize = U32(p, end + 12);
        long directoryOffset = U32(p, end + 16);
        if (U16(p, end + 4) != 0 || U16(p, end + 6) != 0)
            throw new CheckpointFormatException(path, CheckpointProblem.UnsupportedZipFeature, "multi-disk zip archives are not read");
        long directoryEnd = end;
        if (end >= 20 && U32(p, end - 20) == Zip64LocatorSignature)
        {
            long zip64End = (long)U64(p, end - 12);
            if (zip64End < 0 || zip64End > end - 20 - 56 || U32(p, zip64End) != Zip64EndSignature)
                throw Truncated(path, "its zip64 end record lies outside the file");
            count = (long)U64(p, zip64End + 32);
            directorySize = (long)U64(p, zip64End + 40);
            directoryOffset = (long)U64(p, zip64End + 48);
            directoryEnd = zip64End;
        }
        if (count < 0 || count > MaxEntries)
            throw new CheckpointFormatException(path, CheckpointProblem.TooDeep, $"the archive declares {count} entries, over the {MaxEntries} limit");
        if (directoryOffset < 0 || directorySize < 0 || directoryOffset > directoryEnd || directorySize > directoryEnd - directoryOffset)
            throw Truncated(path, $"its central directory ({directorySize} bytes at {directoryOffset}) lies outside the file");

        var entries = new Dictionary<string, ZipEntry>(StringComparer.Ordinal);
        long at = directoryOffset, directoryStop = directoryOffset + directorySize;
        for (long n = 0; n < count; n++)
        {
            if (at > directoryStop - 46 || U32(p, at) != CentralSignature)
                throw Truncated(path, $"central directory entry {n} of {count} is missing or cut short");
            int flags = U16(p, at + 8), method = U16(p, at + 10);
            long compressed = U32(p, at + 20), size = U32(p, at + 24);
            int nameLength = U16(p, at + 28), extraLength = U16(p, at + 30), commentLength = U16(p, at + 32);
            long local = U32(p, at + 42);
            long next = at + 46 + nameLength + extraLength + commentLength;
            if (next > directoryStop) throw Truncated(path, $"central directory entry {n} runs past the directory");
            string name = DecodeName(path, p, at + 46, nameLength);
            ReadZip64Extra(path, name, p, at + 46 + nameLength, extraLength, ref size, ref compressed, ref local);

            CheckName(path, name);
            if ((flags & 1) != 0) throw new CheckpointFormatException(path, CheckpointProblem.UnsupportedZipFeature, $"entry '{name}' is encrypted");
            if (method is not (0 or 8))
                throw new CheckpointFormatException(path, CheckpointProblem.UnsupportedZipFeature, $"entry '{name}' uses compression method {method}; only stored (0) and deflate (8) are read");
            if (method == 0 && compressed != size)
                throw Truncated(path, $"stored entry '{name}' declares {compressed} bytes stored but {size} bytes of content");
            if (local < 0 || local > directoryOffset - 30 || U32(p, local) != LocalSignature)
                throw Truncated(path, $"entry '{name}' has no local header where the directory says ({local})");
            long dataOffset = local + 30 + U16(p, local + 26) + U16(p, local + 28);
            if (compressed < 0 || dataOffset > directoryOffset || compressed > directoryOffset - dataOffset)
                throw Truncated(path, $"entry '{name}' ({compressed} bytes at {dataOffset}) runs past the end of the archive's data");
            // Deflate cannot expand 1 byte into more than about 1032; a declaration beyond that is a lie (a bomb's).
            if (method == 8 && (size > MaxInflatedBytes || size / 1100 > compressed + 1))
                throw new CheckpointFormatException(path, CheckpointProblem.CompressionBomb,
                    $"entry '{name}' declares {size} bytes from {compressed} compressed (over the {MaxInflatedBytes}-byte limit or beyond what deflate can produce)");
            if (!entries.TryAdd(name, new ZipEntry(name, method, compressed, size, dataOffset)))
                throw new CheckpointFormatException(path, CheckpointProblem.DuplicateEntry, $"the archive holds entry '{name}' twice");
            at = next;
        }
        return entries;
    }

    /// <summary>Zip64 extra field (id 1): the 64-bit values of whichever 32-bit fields are 0xFFFFFFFF, in this order.</summary>
    private static void ReadZip64Extra(string path, string name, byte* p, long at, int length, ref long size, ref long compressed, ref long local)
    {
        long stop = at + length;
        while (at + 4 <= stop)
        {
            int id = U16(p, at), dataLength = U16(p, at + 2);
            long field = at + 4;
            if (field + dataLength > stop) break;
            if (id == 1)
            {
                long fieldStop = field + dataLength;
                if (size == 0xFFFFFFFF) { size = Next(ref field, fieldStop); }
                if (compressed == 0xFFFFFFFF) { compressed = Next(ref field, fieldStop); }
                if (local == 0xFFFFFFFF) { local = Next(ref field, fieldStop); }
                return;
            }
            at = field + dataLength;
        }

        long Next(ref long f, long fieldStop)
        {
            if (f + 8 > fieldStop) throw Truncated(path, $"entry '{name}' has a cut-short zip64 extra field");
            long v = (long)U64(p, f);
            f += 8;
            if (v < 0) throw Truncated(path, $"entry '{name}' declares a size or offset over 2^63");
            return v;
        }
    }

    private static string DecodeName(string path, byte* p, long at, int length)
    {
        try
        {
            return new UTF8Encoding(false, true).GetString(new ReadOnlySpan<byte>(p + at, length));
        }
        catch (DecoderFallbackException)
        {
            throw new CheckpointFormatException(path, CheckpointProblem.UnsafeEntryName, $"an entry name at offset {at} is not valid UTF-8");
        }
    }

    /// <summary>
    /// Refuses names that would escape a folder if anyone extracted the archive: absolute paths, drive letters,
    /// backslashes, empty, "." or ".." segments, control characters. Checkpoints never need any of these.
    /// </summary>
    private static void CheckName(string path, string name)
    {
        bool bad = name.Length == 0 || name[0] == '/' || name.Contains('\\') || (name.Length >= 2 && name[1] == ':')
            || name.Any(char.IsControl)
            || name.TrimEnd('/').Split('/').Any(s => s is "" or "." or "..");
        if (bad)
            throw new CheckpointFormatException(path, CheckpointProblem.UnsafeEntryName,
                $"entry name '{Printable(name)}' is not a plain relative path (absolute, '..', '.', backslash, drive letter or control character)");
    }

    internal static string Printable(string s) => new(s.Select(c => char.IsControl(c) ? '?' : c).Take(200).ToArray());

    private static CheckpointFormatException Truncated(string path, string detail) =>
        new(path, CheckpointProblem.TruncatedArchive, "not a complete zip archive: " + detail);

    private static ushort U16(byte* p, long at) => BinaryPrimitives.ReadUInt16LittleEndian(new ReadOnlySpan<byte>(p + at, 2));
    private static uint U32(byte* p, long at) => BinaryPrimitives.ReadUInt32LittleEndian(new ReadOnlySpan<byte>(p + at, 4));
    private static ulong U64(byte* p, long at) => BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(p + at, 8));

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map.Dispose();
    }
}
