using PromptAD.Clip;
using PromptAD.Tensors;
using PromptAD.Tensors.Autograd;
using PromptAD.Tensors.Cpu;
using PromptAD.Tensors.SafeTensors;
using TOps = PromptAD.Tensors.Ops;

namespace PromptAD.Tests.Clip;

/// <summary>
/// CLIP encoders against the independent PyTorch reference (tests/reference/clip_reference.py, float64), the image
/// encoder under both mid-feature modes (SPEC §4 item 3).
/// Tolerances (fp32): normalized features max abs error ≤ 1e-4; raw features max abs error ≤ 1e-4 relative to
/// the largest reference magnitude; learned-vector gradients max abs error ≤ 1e-3 relative to the largest one.
/// </summary>
public class ClipParityTests(ITestOutputHelper output)
{
    private const double NormalizedTol = 1e-4, RawRelTol = 1e-4, GradRelTol = 1e-3;

    public static TheoryData<string> TinyConfigs() => new("tiny-test", "tiny-test-quickgelu");

    [Theory]
    [MemberData(nameof(TinyConfigs))]
    public void TextFeaturesAndGradients_MatchPyTorch(string config)
    {
        using var golden = new ClipGolden(ClipGolden.SmallDirectory, config);
        CheckText(golden);
    }

    public static TheoryData<string, MidFeatureMode> TinyConfigsAndMidModes() => new()
    {
        { "tiny-test", MidFeatureMode.AsPublished }, { "tiny-test", MidFeatureMode.BlockOutput },
        { "tiny-test-quickgelu", MidFeatureMode.AsPublished }, { "tiny-test-quickgelu", MidFeatureMode.BlockOutput },
    };

    [Theory]
    [MemberData(nameof(TinyConfigsAndMidModes))]
    public void ImageFeatures_MatchPyTorch(string config, MidFeatureMode mid)
    {
        using var golden = new ClipGolden(ClipGolden.SmallDirectory, config);
        CheckImage(golden, mid);
    }

    /// <summary>
    /// The two mid-feature goldens (the reference's forward hooks keeping the in-place-updated tensor, or a copy) are
    /// far apart compared with the tolerance, so an encoder that ignored its mode would fail one of the cases above.
    /// </summary>
    [Theory]
    [MemberData(nameof(TinyConfigs))]
    public void MidFeatureGoldens_DifferFarBeyondTheTolerance(string config)
    {
        using var golden = new ClipGolden(ClipGolden.SmallDirectory, config);
        int w = golden.Config.Vision.Width;
        foreach (var m in new[] { "image_mid1", "image_mid2" })
        {
            double gap = Compare.MaxAbs(Compare.NormalizeRows(golden.Get(m), w), Compare.NormalizeRows(golden.Get(GoldenName(m, MidFeatureMode.BlockOutput)), w));
            output.WriteLine($"{config} {m}: as-published vs block-output, normalized max abs {gap:E2}");
            Assert.True(gap > 100 * NormalizedTol, $"{m}: the two modes' goldens differ by only {gap:E2}");
        }
    }

    /// <summary>Opt-in: the full ViT-B-16-plus-240 case (generate with clip_reference.py --large).</summary>
    [Fact]
    public void LargeModel_MatchesPyTorch()
    {
        if (Environment.GetEnvironmentVariable("PROMPTAD_LARGE_GOLDEN") != "1")
            Assert.Skip("set PROMPTAD_LARGE_GOLDEN=1 after running /usr/bin/python3 tests/reference/clip_reference.py --large");
        string dir = Path.Combine(ClipGolden.RepoRoot, "tests", "reference", "large");
        Assert.True(File.Exists(Path.Combine(dir, "ViT-B-16-plus-240.golden.safetensors")),
            $"PROMPTAD_LARGE_GOLDEN=1 but {dir} has no golden files; run clip_reference.py --large first");
        using var golden = new ClipGolden(dir, "ViT-B-16-plus-240");
        CheckText(golden);
        CheckImage(golden, MidFeatureMode.AsPublished);
        CheckImage(golden, MidFeatureMode.BlockOutput);
    }

    private void CheckText(ClipGolden golden)
    {
        var be = CpuBackend.Instance;
        using var weights = ClipWeights.Load(golden.WeightsPath, golden.Config, be);
        var encoder = new ClipTextEncoder(weights);
        using var scope = TensorScope.Open();
        var leaf = Tensor.FromArray(be, golden.Get("learned"), golden.Shape("learned"));
        leaf.RequiresGrad = true;
        var learned = TOps.GatherRows(leaf, golden.Ints("learned_index"));
        var text = encoder.Encode(golden.TokenIds(), learned, golden.LearnedPositions());

        var expected = golden.Get("text_features");
        var actual = text.ToArray();
        int e = golden.Config.EmbedDim;
        double raw = Compare.Relative(actual, expected);
        double norm = Compare.MaxAbs(Compare.NormalizeRows(actual, e), Compare.NormalizeRows(expected, e));

        // loss = Σ w ⊙ text, as a [1, n]·[n, 1] product.
        var w = golden.Get("loss_weights");
        var loss = TOps.MatMul(TOps.Reshape(text, 1, w.Length), Tensor.FromArray(be, w, w.Length, 1));
        Backprop.Backward(loss);
        double grad = Compare.Relative(leaf.Grad!.ToArray(), golden.Get("learned_grad"));
        output.WriteLine($"{golden.Config.Name} text: raw rel {raw:E2}, normalized abs {norm:E2}, grad rel {grad:E2}");
        Assert.True(raw <= RawRelTol, $"text raw relative error {raw:E3}");
        Assert.True(norm <= NormalizedTol, $"text normalized error {norm:E3}");
        Assert.True(grad <= GradRelTol, $"learned-vector gradient relative error {grad:E3}");
    }

    /// <summary>The golden tensor of <paramref name="name"/> under <paramref name="mid"/> (mid features only differ).</summary>
    private static string GoldenName(string name, MidFeatureMode mid) =>
        mid == MidFeatureMode.BlockOutput && name.StartsWith("image_mid", StringComparison.Ordinal) ? name + "_block_output" : name;

    private void CheckImage(ClipGolden golden, MidFeatureMode mid)
    {
        var be = CpuBackend.Instance;
        using var weights = ClipWeights.Load(golden.WeightsPath, golden.Config, be);
        var encoder = new ClipImageEncoder(weights, mid);
        int batch = golden.Shape("images")[0];
        using var raw = encoder.EncodeRaw(golden.Get("images"), batch);
        using var normalized = raw.Normalized();
        Assert.True(normalized.IsNormalized);
        var parts = new (string Name, Tensor Raw, Tensor Norm)[]
        {
            ("image_global", raw.Global, normalized.Global), ("image_local", raw.Local, normalized.Local),
            ("image_mid1", raw.Mid1, normalized.Mid1), ("image_mid2", raw.Mid2, normalized.Mid2),
        };
        foreach (var (part, r, n) in parts)
        {
            string name = GoldenName(part, mid);
            var expected = golden.Get(name);
            Assert.Equal(golden.Shape(name), r.Shape.ToArray());
            double rel = Compare.Relative(r.ToArray(), expected);
            double norm = Compare.MaxAbs(n.ToArray(), Compare.NormalizeRows(expected, r.Cols));
            output.WriteLine($"{golden.Config.Name} {name} ({mid.Name()}): raw rel {rel:E2}, normalized abs {norm:E2}");
            Assert.True(rel <= RawRelTol, $"{name} raw relative error {rel:E3}");
            Assert.True(norm <= NormalizedTol, $"{name} normalized error {norm:E3}");
        }
    }

    [Fact]
    public void TextTruncatedAtLongestEnd_EqualsFullContextRun()
    {
        using var golden = new ClipGolden(ClipGolden.SmallDirectory, "tiny-test");
        var be = CpuBackend.Instance;
        using var weights = ClipWeights.Load(golden.WeightsPath, golden.Config, be);
        var encoder = new ClipTextEncoder(weights);
        using var scope = TensorScope.Open();
        var ids = golden.TokenIds();
        var learned = TOps.GatherRows(Tensor.FromArray(be, golden.Get("learned"), golden.Shape("learned")), golden.Ints("learned_index"));
        var positions = golden.LearnedPositions();
        var truncated = encoder.Encode(ids, learned, positions).ToArray();

        // The same prompts through the low-level entry with all 77 positions.
        int ctx = golden.Config.Text.ContextLength, batch = ids.Length;
        var embeddings = TOps.GatherRows(weights["token_embedding.weight"], ids.SelectMany(p => p).ToArray());
        var flat = positions.SelectMany((ps, b) => ps.Select(p => b * ctx + p)).ToArray();
        var full = encoder.EncodeEmbeddings(TOps.SpliceRows(embeddings, learned, flat), batch, ctx, ClipTextEncoder.EndPositions(ids)).ToArray();
        double err = Compare.Relative(truncated, full);
        output.WriteLine($"truncated (seq {ClipTextEncoder.EndPositions(ids).Max() + 1}) vs 77: rel {err:E2}");
        Assert.True(err <= 1e-5, $"truncation changed the features: relative error {err:E3}");
    }

    [Fact]
    public void WeightsLoader_ListsMissingUnexpectedAndMisshapedKeysInOneError()
    {
        var config = ClipConfigs.Load("tiny-test");
        var layout = ClipWeightLayout.Expected(config);
        var entries = new List<SafeTensorsWriter.Entry>();
        foreach (var (name, shape) in layout)
        {
            if (name == "visual.ln_pre.bias") continue; // missing
            int[] s = name == "text_projection" ? [shape[0], shape[1] + 1] : shape; // mis-shaped
            entries.Add(new(name, s, new float[Shape.Elements(s)]));
        }
        entries.Add(new("visual.extra_head.weight", [2, 2], new float[4])); // unexpected
        string path = Path.Combine(Path.GetTempPath(), $"clip-bad-{Guid.NewGuid():N}.safetensors");
        try
        {
            SafeTensorsWriter.Write(path, entries);
            var ex = Assert.Throws<ClipWeightsException>(() => ClipWeights.Load(path, config, CpuBackend.Instance));
            output.WriteLine(ex.Message);
            Assert.Contains("visual.ln_pre.bias", ex.Message);
            Assert.Contains("visual.extra_head.weight", ex.Message);
            Assert.Contains("text_projection: file shape [32, 25], expected [32, 24]", ex.Message);
            Assert.Contains(Path.GetFullPath(path), ex.Message);
            Assert.Equal(["visual.ln_pre.bias"], ex.Missing);
            Assert.Equal(["visual.extra_head.weight"], ex.Unexpected);
            Assert.Single(ex.Misshaped);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void RandomWeights_RoundTripThroughSafetensors()
    {
        var config = ClipConfigs.Load("tiny-test");
        string path = Path.Combine(Path.GetTempPath(), $"clip-rand-{Guid.NewGuid():N}.safetensors");
        try
        {
            using var a = ClipWeights.Random(config, CpuBackend.Instance, seed: 3);
            a.SaveSafetensors(path);
            using var b = ClipWeights.Load(path, config, CpuBackend.Instance);
            foreach (var (name, _) in ClipWeightLayout.Expected(config))
                Assert.Equal(a[name].ToArray(), b[name].ToArray());
        }
        finally
        {
            File.Delete(path);
        }
    }
}
