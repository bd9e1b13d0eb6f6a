using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;

namespace PromptAD.Tensors.SafeTensors;

/// <summary>
/// A read-only, memory-mapped safetensors file. Only the header is copied into managed memory; tensor bytes are read
/// straight from the mapping on demand, so opening a multi-GB checkpoint costs neither time nor RAM.
/// Everything is validated at <see cref="Open"/>: after it returns, every listed tensor lies inside the file and
/// reads cannot fail except for unsupported dtypes. Reads may run concurrently; Dispose must not race with them.
/// </summary>
public sealed unsafe class SafeTensorsFile : IDisposable
{
    private readonly string _path;
    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _data; // first byte of the data section (after the 8-byte length and the header)
    private readonly Dictionary<string, SafeTensorInfo> _byName;
    private bool _disposed;

    private SafeTensorsFile(
        string path,
        MemoryMappedFile map,
        MemoryMappedViewAccessor view,
        byte* data,
        Dictionary<string, string> metadata,
        List<SafeTensorInfo> tensors)
    {
        _path = path;
        _map = map;
        _view = view;
        _data = data;
        Metadata = metadata;
        Tensors = tensors;
        _byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>Full path of the mapped file.</summary>
    public string FilePath => _path;

    /// <summary>The optional "__metadata__" strings (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Tensor entries in header order.</summary>
    public IReadOnlyList<SafeTensorInfo> Tensors { get; }

    /// <summary>Opens and fully validates <paramref name="path"/>; throws <see cref="SafeTensorsFormatException"/> if malformed.</summary>
    public static SafeTensorsFile Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string fullPath = Path.GetFullPath(path);

        // FileShare.Read: other readers are fine; writers replace the file by rename (SafeTensorsWriter), which
        // leaves this mapping on the old inode rather than truncating under it.
        var stream = new FileStream(fullPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.None);
        MemoryMappedFile? map = null;
        MemoryMappedViewAccessor? view = null;
        bool pointerAcquired = false;
        try
        {
            long fileLength = stream.Length;
            if (fileLength < 8)
            {
                throw new SafeTensorsFormatException(fullPath, null,
                    $"the file is {fileLength} bytes; expected at least 8 (the header length) plus a header.");
            }

            map = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            stream = null!; // owned by the map from here on
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);

            byte* basePointer = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref basePointer);
            pointerAcquired = true;
            basePointer += view.PointerOffset;

            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(basePointer, 8));
            if (headerLength == 0)
            {
                throw new SafeTensorsFormatException(fullPath, null, "the header length is 0; expected a JSON object.");
            }

            if (headerLength > (ulong)(fileLength - 8))
            {
                throw new SafeTensorsFormatException(fullPath, null,
                    $"the header length {headerLength} exceeds the {fileLength - 8} bytes after the length field (truncated or not a safetensors file).");
            }

            if (headerLength > SafeTensorsHeader.MaxHeaderBytes)
            {
                throw new SafeTensorsFormatException(fullPath, null,
                    $"the header length {headerLength} exceeds the {SafeTensorsHeader.MaxHeaderBytes}-byte limit.");
            }

            // The only file-sized allocation, bounded by both the cap and the real file length checked above.
            byte[] header = new ReadOnlySpan<byte>(basePointer + 8, (int)headerLength).ToArray();
            long dataStart = 8 + (long)headerLength;
            SafeTensorsHeader.Parsed parsed = SafeTensorsHeader.Parse(fullPath, header, fileLength - dataStart);

            return new SafeTensorsFile(fullPath, map, view, basePointer + dataStart, parsed.Metadata, parsed.Tensors);
        }
        catch
        {
            if (pointerAcquired)
            {
                view!.SafeMemoryMappedViewHandle.ReleasePointer();
            }

            view?.Dispose();
            map?.Dispose();
            stream?.Dispose();
            throw;
        }
    }

    /// <summary>True if a tensor with this exact name exists.</summary>
    public bool Contains(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _byName.ContainsKey(name);
    }

    /// <summary>The entry for <paramref name="name"/>; a <see cref="KeyNotFoundException"/> naming close matches if absent.</summary>
    public SafeTensorInfo GetInfo(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (_byName.TryGetValue(name, out SafeTensorInfo? info))
        {
            return info;
        }

        IReadOnlyList<string> near = NameSuggestions.Nearest(name, _byName.Keys, 5);
        string hint = near.Count == 0 ? "the file holds no tensors" : "nearest names: " + string.Join(", ", near.Select(n => $"'{n}'"));
        throw new KeyNotFoundException($"Tensor '{name}' not found in '{_path}' ({_byName.Count} tensors); {hint}.");
    }

    /// <summary>
    /// The tensor's raw little-endian bytes, straight from the mapping. Valid only until Dispose; tensors over 2 GB
    /// cannot be returned as one span.
    /// </summary>
    public ReadOnlySpan<byte> GetBytes(string name)
    {
        SafeTensorInfo info = GetInfo(name);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (info.ByteLength > int.MaxValue)
        {
            throw new NotSupportedException($"Tensor '{name}' in '{_path}' is {info.ByteLength} bytes; spans are limited to 2 GB.");
        }

        return new ReadOnlySpan<byte>(_data + info.Begin, (int)info.ByteLength);
    }

    /// <summary>
    /// Reads a tensor as float32 into <paramref name="destination"/>, whose length must equal the element count.
    /// F32 is copied; F16 and BF16 are widened exactly. Other dtypes throw <see cref="NotSupportedException"/>.
    /// </summary>
    public void ReadFloat32(string name, Span<float> destination)
    {
        SafeTensorInfo info = GetInfo(name);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (destination.Length != info.ElementCount)
        {
            throw new ArgumentException(
                $"Tensor '{name}' in '{_path}' has {info.ElementCount} elements (shape {info.ShapeText}); the destination holds {destination.Length}.",
                nameof(destination));
        }

        int elementSize = info.DType.SizeInBytes();
        byte* source = _data + info.Begin;

        // Chunks keep each source span under 2 GB even for a 2^31-element F32 tensor (8 GB of bytes).
        const int ChunkElements = 1 << 26;
        for (int offset = 0; offset < destination.Length; offset += ChunkElements)
        {
            int count = Math.Min(ChunkElements, destination.Length - offset);
            var chunk = new ReadOnlySpan<byte>(source + (long)offset * elementSize, count * elementSize);
            Span<float> target = destination.Slice(offset, count);
            switch (info.DType)
            {
                case SafeTensorDType.F32:
                    Float16Conversion.LittleEndianSingle(chunk, target);
                    break;
                case SafeTensorDType.F16:
                    Float16Conversion.HalfToSingle(chunk, target);
                    break;
                case SafeTensorDType.BF16:
                    Float16Conversion.BFloat16ToSingle(chunk, target);
                    break;
                default:
                    throw new NotSupportedException(
                        $"Tensor '{name}' in '{_path}' is {info.DType.HeaderName()}; only F32, F16 and BF16 convert to float32.");
            }
        }
    }

    /// <summary>
    /// The address of an F32 tensor's values inside the mapping, when they can be used where they lie as float32 on
    /// this machine: little-endian host and a 4-byte-aligned start. Valid until Dispose (the mapping is read-only).
    /// False for other dtypes or a misaligned offset; those are read with <see cref="ReadFloat32(string, Span{float})"/>.
    /// </summary>
    public bool TryGetFloat32Address(string name, out IntPtr address)
    {
        SafeTensorInfo info = GetInfo(name);
        ObjectDisposedException.ThrowIf(_disposed, this);
        byte* start = _data + info.Begin;
        bool usable = info.DType == SafeTensorDType.F32 && BitConverter.IsLittleEndian && (nuint)start % sizeof(float) == 0;
        address = usable ? (IntPtr)start : IntPtr.Zero;
        return usable;
    }

    /// <summary>Reads a tensor as a new float32 array; see <see cref="ReadFloat32(string, Span{float})"/>.</summary>
    public float[] ReadFloat32(string name)
    {
        SafeTensorInfo info = GetInfo(name);
        if (!info.DType.ConvertsToFloat32())
        {
            throw new NotSupportedException(
                $"Tensor '{name}' in '{_path}' is {info.DType.HeaderName()}; only F32, F16 and BF16 convert to float32.");
        }

        if (info.ElementCount > Array.MaxLength)
        {
            throw new NotSupportedException($"Tensor '{name}' in '{_path}' has {info.ElementCount} elements; too many for one array.");
        }

        var result = new float[info.ElementCount];
        ReadFloat32(name, result);
        return result;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map.Dispose();
    }
}
