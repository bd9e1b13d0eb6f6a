using System.Text;
using PromptAD.Tensors.SafeTensors;

namespace PromptAD.Tensors.Checkpoints;

/// <summary>
/// A zip-format PyTorch file: a <c>torch.save</c>d state dict (.bin/.pt/.pth: <c>&lt;name&gt;/data.pkl</c> plus one
/// record per storage under <c>&lt;name&gt;/data/</c>) or a TorchScript archive (the same layout plus
/// <c>code/</c> and <c>constants.pkl</c>; its tensors are the attributes of the pickled module tree, named by their
/// attribute path as in <c>state_dict()</c>). The pickle is read by <see cref="RestrictedUnpickler"/>; tensors are read
/// in place from the memory-mapped archive (torch stores storages uncompressed), deflated storages are inflated once.
/// Every tensor is checked at <see cref="Open"/> to lie inside its storage and its storage inside its record.
/// </summary>
public sealed class TorchCheckpoint : ITensorSource
{
    /// <summary>Nesting of dicts and modules walked to find tensors (CLIP's deepest name has 6 parts).</summary>
    internal const int MaxDepth = 64;

    private sealed record Item(TensorEntry Entry, TensorRef Tensor, MappedZip.ZipEntry Record);

    private readonly MappedZip _zip;
    private readonly Dictionary<string, Item> _items;
    private readonly Dictionary<string, byte[]> _inflated = new(StringComparer.Ordinal);
    private readonly Lock _inflateLock = new();

    private TorchCheckpoint(MappedZip zip, bool torchScript, List<Item> items)
    {
        _zip = zip;
        Format = torchScript ? "TorchScript" : "torch.save";
        Tensors = items.Select(i => i.Entry).ToArray();
        _items = items.ToDictionary(i => i.Entry.Name, StringComparer.Ordinal);
    }

    public string FilePath => _zip.FilePath;
    public string Format { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; } = new Dictionary<string, string>();
    public IReadOnlyList<TensorEntry> Tensors { get; }

    public static TorchCheckpoint Open(string path)
    {
        var zip = MappedZip.Open(path);
        try
        {
            string file = zip.FilePath;
            var pickles = zip.Names.Where(n => n.EndsWith("/data.pkl", StringComparison.Ordinal) && n.IndexOf('/') == n.Length - "/data.pkl".Length).ToList();
            if (pickles.Count != 1)
                throw new CheckpointFormatException(file, pickles.Count == 0 ? CheckpointProblem.NoTensors : CheckpointProblem.DuplicateEntry,
                    pickles.Count == 0
                        ? "the zip archive has no '<name>/data.pkl' record: not a torch.save file or TorchScript archive"
                        : $"the zip archive has {pickles.Count} data.pkl records ({string.Join(", ", pickles.Take(3))}); a checkpoint has one");
            string prefix = pickles[0][..^"data.pkl".Length];
            CheckByteOrder(zip, prefix);
            bool torchScript = zip.Contains(prefix + "constants.pkl") || zip.Names.Any(n => n.StartsWith(prefix + "code/", StringComparison.Ordinal));
            byte[] pickle = zip.ReadAll(zip.Entry(pickles[0]), RestrictedUnpickler.MaxPickleBytes);
            object? top = RestrictedUnpickler.Load(file, pickles[0], pickle, torchScript);

            var found = new List<(string Name, TensorRef Tensor)>();
            if (torchScript)
            {
                if (top is not ScriptObject module)
                    throw new CheckpointFormatException(file, CheckpointProblem.NoTensors, $"{pickles[0]} holds no TorchScript module");
                WalkModule(file, module, "", 0, found);
            }
            else
            {
                if (top is not PickleDict dict)
                    throw new CheckpointFormatException(file, CheckpointProblem.NoTensors, $"{pickles[0]} holds no state dict (a dict of tensors)");
                // Training checkpoints wrap the weights: {"state_dict": {...}, "optimizer": ..., "epoch": ...}.
                if (dict.Items.FirstOrDefault(kv => kv.Key is "state_dict").Value is PickleDict inner) dict = inner;
                WalkDict(file, dict, "", 0, found);
            }
            if (found.Count == 0) throw new CheckpointFormatException(file, CheckpointProblem.NoTensors, $"{pickles[0]} holds no tensors");

            var items = new List<Item>(found.Count);
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (name, tensor) in found)
            {
                if (!names.Add(name)) throw new CheckpointFormatException(file, CheckpointProblem.MalformedPickle, $"tensor '{name}' appears twice");
                items.Add(Validate(zip, prefix, name, tensor));
            }
            return new TorchCheckpoint(zip, torchScript, items);
        }
        catch
        {
            zip.Dispose();
            throw;
        }
    }

    private static void CheckByteOrder(MappedZip zip, string prefix)
    {
        if (!zip.Contains(prefix + "byteorder")) return; // written since torch 2.1; older files are little-endian
        string order = Encoding.ASCII.GetString(zip.ReadAll(zip.Entry(prefix + "byteorder"), 16)).Trim();
        if (order != "little")
            throw new CheckpointFormatException(zip.FilePath, CheckpointProblem.UnsupportedFormat,
                $"its storages are '{MappedZip.Printable(order)}'-endian; only little-endian checkpoints are read");
    }

    /// <summary>A state dict: string keys to tensors (nested dicts joined with '.'); other values (ints, metadata) are skipped.</summary>
    private static void WalkDict(string file, PickleDict dict, string prefix, int depth, List<(string, TensorRef)> found)
    {
        if (depth > MaxDepth) throw new CheckpointFormatException(file, CheckpointProblem.TooDeep, $"dicts nested deeper than {MaxDepth} levels at '{prefix}'");
        foreach (var (key, value) in dict.Items)
        {
            if (key is not string name) continue;
            switch (value)
            {
                case TensorRef t: found.Add((prefix + name, t)); break;
                case PickleDict d: WalkDict(file, d, prefix + name + ".", depth + 1, found); break;
            }
        }
    }

    /// <summary>A TorchScript module: tensor attributes by attribute path, submodules recursed into.</summary>
    private static void WalkModule(string file, ScriptObject module, string prefix, int depth, List<(string, TensorRef)> found)
    {
        if (depth > MaxDepth) throw new CheckpointFormatException(file, CheckpointProblem.TooDeep, $"modules nested deeper than {MaxDepth} levels at '{prefix}'");
        if (module.State is not PickleDict attributes) return;
        foreach (var (key, value) in attributes.Items)
        {
            if (key is not string name) continue;
            switch (value)
            {
                case TensorRef t: found.Add((prefix + name, t)); break;
                case ScriptObject child: WalkModule(file, child, prefix + name + ".", depth + 1, found); break;
            }
        }
    }

    private static Item Validate(MappedZip zip, string prefix, string name, TensorRef t)
    {
        string file = zip.FilePath;
        string recordName = prefix + "data/" + t.Storage.Key;
        if (!zip.Contains(recordName))
            throw new CheckpointFormatException(file, CheckpointProblem.MissingRecord, $"tensor '{name}' names storage '{MappedZip.Printable(t.Storage.Key)}', which has no record '{MappedZip.Printable(recordName)}'");
        var record = zip.Entry(recordName);
        int size = t.Storage.DType.SizeInBytes();
        long storageBytes;
        try { storageBytes = checked(t.Storage.Elements * size); }
        catch (OverflowException) { throw new CheckpointFormatException(file, CheckpointProblem.BadShape, $"tensor '{name}': storage of {t.Storage.Elements} elements overflows"); }
        if (storageBytes > record.Size)
            throw new CheckpointFormatException(file, CheckpointProblem.OutOfBounds,
                $"tensor '{name}': its storage of {t.Storage.Elements} {t.Storage.TypeName} elements needs {storageBytes} bytes; record '{recordName}' holds {record.Size}");

        string shapeText = "[" + string.Join(", ", t.Shape) + "]";
        if (t.Shape.Length != t.Stride.Length)
            throw new CheckpointFormatException(file, CheckpointProblem.BadShape, $"tensor '{name}': shape {shapeText} with {t.Stride.Length} strides");
        if (t.Shape.Any(d => d < 0 || d > int.MaxValue) || t.Stride.Any(s => s < 0) || t.Offset < 0)
            throw new CheckpointFormatException(file, CheckpointProblem.BadShape,
                $"tensor '{name}': shape {shapeText}, strides [{string.Join(", ", t.Stride)}] or offset {t.Offset} is negative or a dimension is over 2^31");
        long count = 1, last = t.Offset;
        try
        {
            foreach (long d in t.Shape) count = checked(count * d);
            if (count > 0) for (int i = 0; i < t.Shape.Length; i++) last = checked(last + (t.Shape[i] - 1) * t.Stride[i]);
        }
        catch (OverflowException)
        {
            throw new CheckpointFormatException(file, CheckpointProblem.BadShape, $"tensor '{name}': shape {shapeText} has more elements than fit in 64 bits");
        }
        if (count > Array.MaxLength)
            throw new CheckpointFormatException(file, CheckpointProblem.BadShape, $"tensor '{name}': shape {shapeText} has {count} elements; at most {Array.MaxLength} are read");
        if (count > 0 && last >= t.Storage.Elements)
            throw new CheckpointFormatException(file, CheckpointProblem.OutOfBounds,
                $"tensor '{name}': shape {shapeText} at offset {t.Offset} reaches element {last} of a storage of {t.Storage.Elements}");
        var entry = new TensorEntry(name, t.Storage.DType, t.Shape.Select(d => (int)d).ToArray());
        return new Item(entry, t, record);
    }

    public bool Contains(string name) => _items.ContainsKey(name);

    public TensorEntry GetInfo(string name) => Find(name).Entry;

    private Item Find(string name) => _items.TryGetValue(name, out var i) ? i : throw TensorSources.NotFound(FilePath, name, _items.Keys);

    public void ReadFloat32(string name, Span<float> destination)
    {
        var item = Find(name);
        var t = item.Tensor;
        var dtype = t.Storage.DType;
        if (!dtype.ConvertsToFloat32())
            throw new NotSupportedException($"Tensor '{name}' in '{FilePath}' is {dtype.HeaderName()}; only F32, F16 and BF16 convert to float32.");
        if (destination.Length != item.Entry.ElementCount)
            throw new ArgumentException($"Tensor '{name}' in '{FilePath}' has {item.Entry.ElementCount} elements (shape {item.Entry.ShapeText}); the destination holds {destination.Length}.", nameof(destination));
        if (destination.Length == 0) return;
        int size = dtype.SizeInBytes();
        ReadOnlySpan<byte> storage = StorageBytes(item, t.Storage.Elements * size);
        if (IsContiguous(t))
        {
            Convert(dtype, storage.Slice(checked((int)(t.Offset * size)), destination.Length * size), destination);
            return;
        }
        // A strided view (a transposed or sliced tensor saved as such): gathered element by element.
        var index = new long[t.Shape.Length];
        long source = t.Offset;
        for (int i = 0; i < destination.Length; i++)
        {
            Convert(dtype, storage.Slice((int)(source * size), size), destination.Slice(i, 1));
            for (int d = t.Shape.Length - 1; d >= 0; d--)
            {
                if (++index[d] < t.Shape[d]) { source += t.Stride[d]; break; }
                source -= (t.Shape[d] - 1) * t.Stride[d];
                index[d] = 0;
            }
        }
    }

    private ReadOnlySpan<byte> StorageBytes(Item item, long bytes)
    {
        if (bytes > int.MaxValue)
            throw new NotSupportedException($"Tensor '{item.Entry.Name}' in '{FilePath}' has a {bytes}-byte storage; spans are limited to 2 GB.");
        if (item.Record.Method == 0) return _zip.Stored(item.Record, 0, bytes);
        lock (_inflateLock)
        {
            if (!_inflated.TryGetValue(item.Record.Name, out var data)) _inflated[item.Record.Name] = data = _zip.Inflate(item.Record);
            return data.AsSpan(0, (int)bytes);
        }
    }

    private static bool IsContiguous(TensorRef t)
    {
        long expected = 1;
        for (int d = t.Shape.Length - 1; d >= 0; d--)
        {
            if (t.Shape[d] != 1 && t.Stride[d] != expected) return false;
            expected *= t.Shape[d];
        }
        return true;
    }

    private static void Convert(SafeTensorDType dtype, ReadOnlySpan<byte> source, Span<float> destination)
    {
        switch (dtype)
        {
            case SafeTensorDType.F32: Float16Conversion.LittleEndianSingle(source, destination); break;
            case SafeTensorDType.F16: Float16Conversion.HalfToSingle(source, destination); break;
            default: Float16Conversion.BFloat16ToSingle(source, destination); break;
        }
    }

    public void Dispose()
    {
        _zip.Dispose();
        lock (_inflateLock) _inflated.Clear();
    }
}
