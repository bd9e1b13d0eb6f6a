using PromptAD.Tensors;
using PromptAD.Tensors.Checkpoints;
using PromptAD.Tensors.Cpu;
using PromptAD.Tensors.SafeTensors;

namespace PromptAD.Clip;

/// <summary>
/// A CLIP model's frozen weights on one backend, keyed by OpenCLIP state-dict name (see <see cref="ClipWeightLayout"/>).
/// Owns its tensors, disposed with this object; create it outside any <see cref="TensorScope"/> (a scope would
/// dispose the weights when it closes).
/// </summary>
public sealed unsafe class ClipWeights : IDisposable
{
    private readonly Dictionary<string, Tensor> _tensors;
    private ITensorSource? _mapping; // kept open while tensors lie in it (CPU, F32), closed after them

    private ClipWeights(ClipConfig config, IBackend backend, Dictionary<string, Tensor> tensors, ITensorSource? mapping = null)
    {
        Config = config;
        Backend = backend;
        _tensors = tensors;
        _mapping = mapping;
    }

    public ClipConfig Config { get; }
    public IBackend Backend { get; }
    public IReadOnlyDictionary<string, Tensor> Tensors => _tensors;

    public Tensor this[string name] => _tensors.TryGetValue(name, out var t)
        ? t
        : throw new KeyNotFoundException($"CLIP weights for '{Config.Name}' have no tensor '{name}'");

    /// <summary>
    /// Loads a CLIP state dict (F32/F16/BF16; safetensors, torch.save or TorchScript, OpenCLIP's or Transformers' key
    /// names: see <see cref="WeightFiles.ClipWeightFile"/>) and checks every key and shape against <paramref name="config"/>
    /// before uploading anything; any mismatch throws one <see cref="ClipWeightsException"/> listing all of them. A NaN or
    /// infinite value is refused naming its tensor (checked as each tensor is read; a small fraction of the load time).
    /// On the CPU backend, F32 tensors are used where they lie in the file's read-only memory mapping (no copy: the pages
    /// are read once, by the finite-value check, and shared through the page cache with every process using the file);
    /// other dtypes, and other backends, go one at a time through a single reusable host buffer, so the full model is
    /// never held twice on the host.
    /// </summary>
    public static ClipWeights Load(string path, ClipConfig config, IBackend backend)
    {
        var file = WeightFiles.ClipWeightFile.Open(path);
        bool mapped = false;
        try
        {
            return Load(file, config, backend, out mapped);
        }
        finally
        {
            if (!mapped) file.Dispose();
        }
    }

    private static unsafe ClipWeights Load(ITensorSource file, ClipConfig config, IBackend backend, out bool mapped)
    {
        mapped = false;
        var expected = ClipWeightLayout.Expected(config);
        var expectedNames = expected.Select(e => e.Name).ToHashSet(StringComparer.Ordinal);
        var missing = new List<string>();
        var misshaped = new List<string>();
        foreach (var (name, shape) in expected)
        {
            if (!file.Contains(name)) { missing.Add(name); continue; }
            var info = file.GetInfo(name);
            if (!info.Shape.AsSpan().SequenceEqual(shape))
                misshaped.Add($"{name}: file shape {info.ShapeText}, expected {Shape.Format(shape)}");
            else if (!info.DType.ConvertsToFloat32())
                misshaped.Add($"{name}: dtype {info.DType.HeaderName()} is not F32, F16 or BF16");
        }
        var unexpected = file.Tensors.Select(t => t.Name).Where(n => !expectedNames.Contains(n)).ToList();
        if (missing.Count + unexpected.Count + misshaped.Count > 0)
            throw new ClipWeightsException(file.FilePath, config.Name, missing, unexpected, misshaped);

        var cpu = backend as CpuBackend;
        // Only an OpenCLIP safetensors file holds the tensors as they are used; other forms are read and converted.
        var inPlace = cpu is null ? null : WeightFiles.ClipWeightFile.MappedSafeTensors(file);
        float[]? host = null;
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var (name, shape) in expected)
            {
                int length = checked((int)Shape.Elements(shape));
                if (cpu is not null && inPlace is not null && inPlace.TryGetFloat32Address(name, out IntPtr address))
                {
                    CheckFinite(file, name, new ReadOnlySpan<float>((void*)address, length));
                    tensors[name] = cpu.Borrow(address, shape); // frozen
                    mapped = true;
                    continue;
                }
                host ??= new float[expected.Max(e => Shape.Elements(e.Shape))];
                var span = host.AsSpan(0, length);
                file.ReadFloat32(name, span);
                CheckFinite(file, name, span);
                tensors[name] = UploadUnscoped(backend, span, shape);
            }
        }
        catch
        {
            foreach (var t in tensors.Values) t.Dispose();
            mapped = false;
            throw;
        }
        return new ClipWeights(config, backend, tensors, mapped ? file : null);
    }

    private static void CheckFinite(ITensorSource file, string name, ReadOnlySpan<float> values)
    {
        if (IO.FiniteValues.Problem(values) is { } problem)
            throw new ClipWeightsException(file.FilePath, $"tensor '{name}' {problem}");
    }

    /// <summary>
    /// Random weights of the right shapes, for benchmarks and demos (not a trained model): linear weights
    /// N(0, 1/fan_in), embeddings N(0, 0.02²), LayerNorm γ = 1, β = 0, biases 0, logit_scale = ln(1/0.07).
    /// </summary>
    public static ClipWeights Random(ClipConfig config, IBackend backend, int seed)
    {
        var rng = new Random(seed);
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        long largest = ClipWeightLayout.Expected(config).Max(e => Shape.Elements(e.Shape));
        var host = new float[largest];
        foreach (var (name, shape) in ClipWeightLayout.Expected(config))
        {
            var span = host.AsSpan(0, checked((int)Shape.Elements(shape)));
            if (name == "logit_scale") span[0] = MathF.Log(1f / 0.07f);
            else if (name.EndsWith(".bias", StringComparison.Ordinal) || name.EndsWith("in_proj_bias", StringComparison.Ordinal)) span.Clear();
            else if (name.Contains("ln_", StringComparison.Ordinal)) span.Fill(1f);
            else
            {
                float std = shape.Length switch
                {
                    _ when name.Contains("embedding", StringComparison.Ordinal) => 0.02f,
                    4 => 1f / MathF.Sqrt(shape[1] * shape[2] * shape[3]), // conv1 [out, 3, p, p]
                    2 when name is "visual.proj" or "text_projection" => 1f / MathF.Sqrt(shape[0]), // [in, out]
                    2 => 1f / MathF.Sqrt(shape[1]), // [out, in]
                    _ => 0.02f,
                };
                for (int i = 0; i < span.Length; i++) span[i] = std * Gaussian(rng);
            }
            tensors[name] = UploadUnscoped(backend, span, shape);
        }
        return new ClipWeights(config, backend, tensors);
    }

    /// <summary>Writes every tensor as F32 in layout order (an OpenCLIP-compatible state dict).</summary>
    public void SaveSafetensors(string path)
    {
        var entries = ClipWeightLayout.Expected(Config)
            .Select(e => new SafeTensorsWriter.Entry(e.Name, e.Shape, _tensors[e.Name].ToArray()));
        SafeTensorsWriter.Write(path, entries, new Dictionary<string, string> { ["config"] = Config.Name });
    }

    // Like every tensor, these join an open TensorScope: load weights outside one (they live as long as this object).
    // Frozen: CLIP weights never change, so a backend may keep a converted copy (the GPU's BF16 weights).
    private static Tensor UploadUnscoped(IBackend backend, ReadOnlySpan<float> data, int[] shape)
    {
        var tensor = Tensor.FromArray(backend, data, shape);
        tensor.Storage.Freeze();
        return tensor;
    }

    private static float Gaussian(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
    }

    public void Dispose()
    {
        foreach (var t in _tensors.Values) t.Dispose();
        _tensors.Clear();
        _mapping?.Dispose(); // after the tensors that lie in it
        _mapping = null;
    }
}
