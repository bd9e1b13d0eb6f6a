using PromptAD.Tensors.Checkpoints;
using PromptAD.Tensors.SafeTensors;

namespace PromptAD.Clip.WeightFiles;

/// <summary>How one OpenCLIP-named tensor is made from the file's tensors.</summary>
internal enum RecipeKind
{
    /// <summary>The file's tensor as it is.</summary>
    Same,

    /// <summary>A 2-D tensor transposed (Transformers' nn.Linear projections are [out, in], OpenCLIP's proj [in, out]).</summary>
    Transpose,

    /// <summary>Several tensors stacked along the first dimension (q, k, v → in_proj).</summary>
    Concat,
}

internal sealed record Recipe(RecipeKind Kind, string[] Sources);

/// <summary>
/// A weights file seen under OpenCLIP's state-dict names: each name is a <see cref="Recipe"/> over the file's tensors.
/// Values are only moved (copied, transposed, stacked), never rounded, so every layout of the same weights reads to
/// bit-identical float32 tensors. Owns the source.
/// </summary>
internal sealed class ClipTensorView : ITensorSource
{
    private readonly ITensorSource _source;
    private readonly Dictionary<string, (TensorEntry Entry, Recipe Recipe)> _byName;

    public ClipTensorView(ITensorSource source, string layout, IEnumerable<(string Name, Recipe Recipe)> recipes)
    {
        _source = source;
        Layout = layout;
        var list = new List<TensorEntry>();
        _byName = new Dictionary<string, (TensorEntry, Recipe)>(StringComparer.Ordinal);
        foreach (var (name, recipe) in recipes)
        {
            var entry = Describe(name, recipe);
            list.Add(entry);
            _byName[name] = (entry, recipe);
        }
        Tensors = list;
    }

    /// <summary>True when every tensor is the file's own under its own name (no wrapper prefix, renaming or reshaping).</summary>
    public bool IsIdentity => _byName.All(kv => kv.Value.Recipe is { Kind: RecipeKind.Same, Sources: [var s] } && s == kv.Key);

    /// <summary>"OpenCLIP" or "Transformers": whose key names the file uses.</summary>
    public string Layout { get; }

    public ITensorSource Source => _source;
    public string FilePath => _source.FilePath;
    public string Format => _source.Format;
    public IReadOnlyDictionary<string, string> Metadata => _source.Metadata;
    public IReadOnlyList<TensorEntry> Tensors { get; }

    public bool Contains(string name) => _byName.ContainsKey(name);

    public TensorEntry GetInfo(string name) =>
        _byName.TryGetValue(name, out var e) ? e.Entry : throw TensorSources.NotFound(FilePath, name, _byName.Keys);

    public void ReadFloat32(string name, Span<float> destination)
    {
        var (entry, recipe) = _byName.TryGetValue(name, out var e) ? e : throw TensorSources.NotFound(FilePath, name, _byName.Keys);
        if (destination.Length != entry.ElementCount)
            throw new ArgumentException($"Tensor '{name}' in '{FilePath}' has {entry.ElementCount} elements; the destination holds {destination.Length}.", nameof(destination));
        switch (recipe.Kind)
        {
            case RecipeKind.Same:
                _source.ReadFloat32(recipe.Sources[0], destination);
                break;
            case RecipeKind.Transpose:
            {
                var shape = _source.GetInfo(recipe.Sources[0]).Shape; // [rows, cols] in the file
                var temp = new float[destination.Length];
                _source.ReadFloat32(recipe.Sources[0], temp);
                int rows = shape[0], cols = shape[1];
                for (int r = 0; r < rows; r++)
                    for (int c = 0; c < cols; c++)
                        destination[c * rows + r] = temp[r * cols + c];
                break;
            }
            case RecipeKind.Concat:
            {
                int at = 0;
                foreach (var part in recipe.Sources)
                {
                    int n = checked((int)_source.GetInfo(part).ElementCount);
                    _source.ReadFloat32(part, destination.Slice(at, n));
                    at += n;
                }
                break;
            }
        }
    }

    /// <summary>The shape and dtype a recipe yields; mismatched parts are refused naming them.</summary>
    private TensorEntry Describe(string name, Recipe recipe)
    {
        var parts = recipe.Sources.Select(_source.GetInfo).ToArray();
        var first = parts[0];
        switch (recipe.Kind)
        {
            case RecipeKind.Same:
                return first with { Name = name };
            case RecipeKind.Transpose when first.Shape.Length == 2:
                return new TensorEntry(name, first.DType, [first.Shape[1], first.Shape[0]]);
            case RecipeKind.Concat when parts.All(p => p.Shape.Length >= 1 && p.Shape.AsSpan(1).SequenceEqual(first.Shape.AsSpan(1))):
                var dtype = parts.All(p => p.DType == first.DType) ? first.DType : SafeTensorDType.F32;
                return new TensorEntry(name, dtype, [parts.Sum(p => p.Shape[0]), .. first.Shape[1..]]);
            default:
                throw new ClipWeightsException(FilePath,
                    $"'{name}' is made from {string.Join(", ", parts.Select(p => $"'{p.Name}' {p.ShapeText}"))}, whose shapes do not fit together ({recipe.Kind})");
        }
    }

    public void Dispose() => _source.Dispose();
}
