using PromptAD.Tensors.SafeTensors;

namespace PromptAD.Tensors.Checkpoints;

/// <summary>A safetensors file as an <see cref="ITensorSource"/> (the mapping and its checks are SafeTensorsFile's).</summary>
public sealed class SafeTensorsSource : ITensorSource
{
    private readonly Dictionary<string, TensorEntry> _byName;

    public SafeTensorsSource(SafeTensorsFile file)
    {
        File = file;
        Tensors = file.Tensors.Select(t => new TensorEntry(t.Name, t.DType, t.Shape)).ToArray();
        _byName = Tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>The underlying file, for callers that use the mapped bytes in place.</summary>
    public SafeTensorsFile File { get; }

    public string FilePath => File.FilePath;
    public string Format => "safetensors";
    public IReadOnlyDictionary<string, string> Metadata => File.Metadata;
    public IReadOnlyList<TensorEntry> Tensors { get; }

    public bool Contains(string name) => File.Contains(name);

    public TensorEntry GetInfo(string name) => _byName.TryGetValue(name, out var e) ? e : throw TensorSources.NotFound(FilePath, name, _byName.Keys);

    public void ReadFloat32(string name, Span<float> destination) => File.ReadFloat32(name, destination);

    public void Dispose() => File.Dispose();
}
