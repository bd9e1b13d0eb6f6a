using PromptAD.Bench;
using PromptAD.Clip;
using PromptAD.Tensors.Cpu;
using PromptAD.Tests.Tensors;

namespace PromptAD.Tests.Bench;

/// <summary>
/// `bench clip --by-op`: the FLOPs charged to each op kind match the encoder's layer shapes counted by hand, and the
/// kinds' times add up to no more than the measured total. Installs the process-wide trace sink, so runs alone.
/// </summary>
[Collection(TraceCollection.Name)]
public sealed class ImageEncoderByOpTests
{
    [Fact]
    public void ChargesEachLayersFlopsToItsKind()
    {
        var config = ClipConfigs.Load("tiny-test");
        using var weights = ClipWeights.Random(config, CpuBackend.Instance, seed: 3);
        var profile = ImageEncoderByOp.Measure(weights, batch: 2, reps: 1);

        // tiny-test: 32-px images, 8-px patches → 16 patches + class token; width 32, 4 blocks, embed 24.
        const double P = 16, T = 17, W = 32, E = 24, Blocks = 4, PatchDim = 3 * 8 * 8;
        double gemm = 2 * P * PatchDim * W // patch embedding
            // qkv, out_proj over both paths' rows (one GEMM), c_fc, c_proj
            + Blocks * (2 * T * W * 3 * W + 2 * 2 * T * W * W + 2 * T * W * 4 * W + 2 * T * 4 * W * W)
            + 2 * 1 * W * E + 2 * P * W * E; // global and local projections
        double attention = Blocks * 4 * T * T * W;
        double vv = Blocks * 4 * T * T * W; // V-V attention (its out_proj is in the shared GEMM above)
        Assert.Equal(gemm, profile.PerImage[OpBreakdown.Kinds[0]].Flops, 6);
        Assert.Equal(attention, profile.PerImage[OpBreakdown.Kinds[1]].Flops, 6);
        Assert.Equal(vv, profile.PerImage[OpBreakdown.Kinds[2]].Flops, 6);
        Assert.All(OpBreakdown.Kinds.Skip(3), k => Assert.Equal(0, profile.PerImage[k].Flops));

        Assert.True(profile.PerImage.Values.All(v => v.Seconds >= 0));
        Assert.True(profile.Untraced >= 0, $"kinds sum to more than the total: {profile.Untraced}");
        Assert.True(profile.PerImage[OpBreakdown.Kinds[0]].Seconds > 0);
        Assert.True(profile.PerImage[OpBreakdown.Kinds[8]].Seconds > 0); // preprocessing was timed
    }

    [Fact]
    public void BenchClipPrintsTheTableOnTheCpuAndRefusesAGpu()
    {
        var (code, output, err) = ConsoleCapture.Run(() => PromptAD.Program.Main(["bench", "clip", "--config", "tiny-test", "--by-op"]));
        Assert.True(code == 0, err);
        foreach (string kind in OpBreakdown.Kinds) Assert.Contains(kind, output);
        Assert.Contains("b8 ms/img", output);
        Assert.Contains("of its own GEMMs'", output);

        var (gpuCode, _, gpuErr) = ConsoleCapture.Run(() => PromptAD.Program.Main(["bench", "clip", "--config", "tiny-test", "--by-op", "--device", "cuda"]));
        Assert.NotEqual(0, gpuCode);
        Assert.Contains("--by-op", gpuErr);
    }
}
