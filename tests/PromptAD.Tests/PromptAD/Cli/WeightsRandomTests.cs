using PromptAD.Clip;
using PromptAD.Tensors.Cpu;
using PromptAD.Tensors.SafeTensors;

namespace PromptAD.Tests.Cli;

/// <summary>
/// `promptad weights random --backbone NAME --out FILE [--seed S]` (the README's example, on the tiny backbone): a file
/// that loads as the backbone's weights with every tensor of the shape ClipWeightLayout expects, the documented
/// initialisation (LayerNorm γ = 1, biases 0, logit_scale = ln(1/0.07), linear weights of standard deviation
/// 1/√fan_in), the same bytes for the same seed and other bytes for another, and outputs refused where they would
/// destroy something or join a dataset.
/// </summary>
[Collection("Console")]
public sealed class WeightsRandomTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("promptad-weights-random-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (int Code, string Out, string Err) Random(string output, params string[] extra) =>
        ConsoleCapture.Run(() => PromptAD.Program.Main(["weights", "random", "--backbone", "tiny-test", "--out", output, .. extra]));

    [Fact]
    public void WritesTheBackbonesShapesAndLoads()
    {
        string output = Path.Combine(_dir, "random.safetensors");
        var r = Random(output, "--seed", "3");
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("not a model", r.Out);
        var config = ClipConfigs.Load("tiny-test");
        var expected = ClipWeightLayout.Expected(config);
        using (var file = SafeTensorsFile.Open(output))
        {
            Assert.Equal("tiny-test", file.Metadata["config"]);
            Assert.Equal(expected.Select(e => e.Name), file.Tensors.Select(t => t.Name));
            foreach (var (name, shape) in expected)
            {
                Assert.Equal(shape, file.GetInfo(name).Shape);
                Assert.Equal("F32", file.GetInfo(name).DType.HeaderName());
            }
            Assert.Equal(MathF.Log(1f / 0.07f), file.ReadFloat32("logit_scale")[0]);
            Assert.All(file.ReadFloat32("ln_final.weight"), v => Assert.Equal(1f, v));
            Assert.All(file.ReadFloat32("ln_final.bias"), v => Assert.Equal(0f, v));
            // A linear weight [out, in]: zero mean, standard deviation 1/√in (loose bounds: a few thousand samples).
            var (linearName, linearShape) = expected.First(e => e.Name.EndsWith("mlp.c_fc.weight", StringComparison.Ordinal));
            float[] w = file.ReadFloat32(linearName);
            double mean = w.Average(v => (double)v), std = Math.Sqrt(w.Average(v => ((double)v - mean) * ((double)v - mean)));
            double wanted = 1 / Math.Sqrt(linearShape[1]);
            Assert.InRange(std, 0.9 * wanted, 1.1 * wanted);
            Assert.InRange(mean, -0.1 * wanted, 0.1 * wanted);
        }
        using var weights = ClipWeights.Load(output, config, CpuBackend.Instance);
        Assert.Equal(expected.Count, weights.Tensors.Count);
    }

    [Fact]
    public void SameSeedSameBytes_OtherSeedOtherBytes()
    {
        string a = Path.Combine(_dir, "a.safetensors"), b = Path.Combine(_dir, "b.safetensors"), c = Path.Combine(_dir, "c.safetensors");
        Assert.Equal(0, Random(a, "--seed", "7").Code);
        Assert.Equal(0, Random(b, "--seed", "7").Code);
        Assert.Equal(0, Random(c, "--seed", "8").Code);
        Assert.Equal(File.ReadAllBytes(a), File.ReadAllBytes(b));
        Assert.NotEqual(File.ReadAllBytes(a), File.ReadAllBytes(c));
    }

    [Fact]
    public void RefusesAFolderAndADatasetAsOutput()
    {
        string folder = Directory.CreateDirectory(Path.Combine(_dir, "folder")).FullName;
        var r = Random(folder);
        Assert.Equal(2, r.Code);
        Assert.Contains("expected a file", r.Err);
        Assert.True(Directory.Exists(folder));

        using var workspace = new TinyWorkspace("promptad-weights-random-data-", size: 32);
        string category = Directory.GetDirectories(workspace.Data).Single(d => Directory.Exists(Path.Combine(d, "train", "good")));
        string inside = Path.Combine(category, "train", "good", "random.safetensors");
        r = Random(inside);
        Assert.Equal(2, r.Code);
        Assert.Contains("inside the dataset", r.Err);
        Assert.False(File.Exists(inside));
    }
}
