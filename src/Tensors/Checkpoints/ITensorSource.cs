using PromptAD.Tensors.SafeTensors;

namespace PromptAD.Tensors.Checkpoints;

/// <summary>
/// Named tensors from a weights file, whatever its format (safetensors, torch.save zip, TorchScript archive) and
/// whatever renaming sits on top (Transformers' CLIP key names). Everything is validated when the source is opened:
/// afterwards every listed tensor lies inside the file and reads fail only for dtypes that do not widen to float32.
/// </summary>
public interface ITensorSource : IDisposable
{
    /// <summary>Full path of the file read.</summary>
    string FilePath { get; }

    /// <summary>What the file is, for messages and `weights info`: "safetensors", "torch.save", "TorchScript".</summary>
    string Format { get; }

    /// <summary>String metadata the file carries (safetensors' "__metadata__"; empty for PyTorch files).</summary>
    IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Tensors in file order.</summary>
    IReadOnlyList<TensorEntry> Tensors { get; }

    bool Contains(string name);

    /// <summary>The entry for <paramref name="name"/>; a <see cref="KeyNotFoundException"/> naming close matches if absent.</summary>
    TensorEntry GetInfo(string name);

    /// <summary>Reads a tensor as float32 (F32 copied, F16/BF16 widened exactly) into a span of exactly its element count.</summary>
    void ReadFloat32(string name, Span<float> destination);
}

/// <summary>One tensor's name, element type and shape.</summary>
public sealed record TensorEntry(string Name, SafeTensorDType DType, int[] Shape)
{
    public long ElementCount => Shape.Aggregate(1L, (a, d) => a * d);

    /// <summary>Shape as "[a, b, c]" for messages.</summary>
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}

/// <summary>Helpers every source shares.</summary>
public static class TensorSources
{
    /// <summary>"Tensor 'x' not found in 'file' (N tensors); nearest names: …", as safetensors reports it.</summary>
    public static KeyNotFoundException NotFound(string filePath, string name, IEnumerable<string> names)
    {
        var all = names.ToList();
        IReadOnlyList<string> near = NameSuggestions.Nearest(name, all, 5);
        string hint = near.Count == 0 ? "the file holds no tensors" : "nearest names: " + string.Join(", ", near.Select(n => $"'{n}'"));
        return new KeyNotFoundException($"Tensor '{name}' not found in '{filePath}' ({all.Count} tensors); {hint}.");
    }
}

/// <summary>Opens a weights file by its content (not its extension): safetensors, torch.save zip or TorchScript archive.</summary>
public static class TensorFiles
{
    public static ITensorSource Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string fullPath = Path.GetFullPath(path);
        Span<byte> head = stackalloc byte[4];
        int read;
        using (var stream = new FileStream(fullPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1))
            read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        head = head[..read];
        if (MappedZip.LooksLikeZip(head)) return TorchCheckpoint.Open(fullPath);
        if (read >= 2 && head[0] == 0x80 && head[1] <= 5)
            throw new CheckpointFormatException(fullPath, CheckpointProblem.UnsupportedFormat,
                "a bare pickle, the legacy (before PyTorch 1.6) torch.save format, which cannot be read without running Python code; "
                + "use the publisher's safetensors file of the same weights (OpenCLIP: open_clip_model.safetensors, Transformers: model.safetensors), "
                + "or re-save it once in the zip format where PyTorch is installed: torch.save(torch.load(OLD, map_location='cpu'), NEW)");
        return new SafeTensorsSource(SafeTensorsFile.Open(fullPath));
    }
}
