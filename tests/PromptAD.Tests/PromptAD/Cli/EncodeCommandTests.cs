using PromptAD.Clip;
using PromptAD.Clip.Imaging;
using PromptAD.Tensors;
using PromptAD.Tensors.Cpu;
using PromptAD.Tensors.SafeTensors;
using PromptAD.Tests.Clip;

namespace PromptAD.Tests.Cli;

/// <summary>`promptad encode` end to end on a random-weight tiny model: documented tensor names and shapes, and the
/// features equal what the (PyTorch-checked) encoder gives for the same images.</summary>
public sealed class EncodeCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("promptad-encode-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void WritesDocumentedTensorsMatchingTheEncoder()
    {
        var config = ClipConfigs.Load("tiny-test");
        string weights = Path.Combine(_dir, "tiny.safetensors");
        using (var w = ClipWeights.Random(config, CpuBackend.Instance, seed: 3)) w.SaveSafetensors(weights);
        string images = Path.Combine(ClipTestPaths.Shared, "data", "hazelnut_toy", "test", "good");
        string output = Path.Combine(_dir, "features.safetensors");

        int code = PromptAD.Program.Main(["encode", "--weights", weights, "--backbone", "tiny-test", "--images", images, "--batch", "4", "--out", output]);
        Assert.Equal(0, code);

        var files = Directory.GetFiles(images).Order(StringComparer.Ordinal).ToArray();
        using var f = SafeTensorsFile.Open(output);
        int n = files.Length, p = config.Vision.Patches;
        Assert.Equal([n, config.EmbedDim], f.GetInfo("images.global").Shape);
        Assert.Equal([n, p, config.EmbedDim], f.GetInfo("images.local").Shape);
        Assert.Equal([n, p, config.Vision.Width], f.GetInfo("images.mid1").Shape);
        Assert.Equal([n, p, config.Vision.Width], f.GetInfo("images.mid2").Shape);
        Assert.Equal(string.Join("\n", files), f.Metadata["images"]);

        // The last image alone through the encoder must give the same rows (batching must not mix images).
        using var clip = ClipWeights.Load(weights, config, CpuBackend.Instance);
        using var scope = TensorScope.Open();
        using var direct = new ClipImageEncoder(clip).EncodeRaw(new ClipPreprocessor(config.Vision.ImageSize).Preprocess(files[^1]), 1);
        var expected = direct.Local.ToArray();
        var all = f.ReadFloat32("images.local");
        var actual = all.AsSpan((n - 1) * p * config.EmbedDim, p * config.EmbedDim).ToArray();
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 1e-5f);
    }

    /// <summary>--mid-features chooses which mid-level features are written (as-published by default) and is recorded.</summary>
    [Fact]
    public void MidFeatures_ChoosesAndRecordsTheMode()
    {
        var config = ClipConfigs.Load("tiny-test");
        string weights = Path.Combine(_dir, "tiny.safetensors");
        using (var w = ClipWeights.Random(config, CpuBackend.Instance, seed: 4)) w.SaveSafetensors(weights);
        string image = Directory.GetFiles(Path.Combine(ClipTestPaths.Shared, "data", "hazelnut_toy", "test", "good")).Order(StringComparer.Ordinal).First();
        using var clip = ClipWeights.Load(weights, config, CpuBackend.Instance);
        var chw = new ClipPreprocessor(config.Vision.ImageSize).Preprocess(image);
        foreach (var (args, mode) in new[] { (Array.Empty<string>(), MidFeatureMode.AsPublished), (["--mid-features", "block-output"], MidFeatureMode.BlockOutput) })
        {
            string output = Path.Combine(_dir, $"{mode}.safetensors");
            Assert.Equal(0, PromptAD.Program.Main(["encode", "--weights", weights, "--backbone", "tiny-test", "--images", image, "--out", output, .. args]));
            using var f = SafeTensorsFile.Open(output);
            Assert.Equal(mode.Name(), f.Metadata["mid_features"]);
            using var scope = TensorScope.Open();
            using var direct = new ClipImageEncoder(clip, mode).EncodeRaw(chw, 1);
            Assert.Equal(direct.Mid1.ToArray(), f.ReadFloat32("images.mid1"));
            Assert.Equal(direct.Mid2.ToArray(), f.ReadFloat32("images.mid2"));
        }
    }

    [Fact]
    public void MissingInputIsAClearError()
    {
        var ex = Assert.Throws<FileNotFoundException>(() => PromptAD.Data.ImageFiles.Expand([Path.Combine(_dir, "nope.png")]));
        Assert.Contains("nope.png", ex.Message);
    }
}
