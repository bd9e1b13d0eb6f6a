using PromptAD.Bench;
using PromptAD.Data;

namespace PromptAD.Tests.Bench;

/// <summary>
/// `promptad bench` through Program.Main on the tiny random-weight backbone: the product's benchmarks print our own
/// figures and nothing of a Python reference (that comparison lives in tools/PromptAD.DevBench).
/// </summary>
[Collection("Console")]
public sealed class BenchCommandTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("promptad-bench-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static (int Code, string Out, string Err) Cli(params string[] args) => ConsoleCapture.Run(() => PromptAD.Program.Main(args));

    [Fact]
    public void Clip_PrintsThroughputsWithoutAReference()
    {
        var (code, output, err) = Cli("bench", "clip", "--config", "tiny-test", "--reps", "1");
        Assert.True(code == 0, err);
        foreach (string key in new[] { "image_b1_images_per_s", "image_b8_images_per_s", "text_forward_prompts_per_s", "text_forward_backward_prompts_per_s" })
            Assert.Contains(key, output);
        Assert.DoesNotContain("torch", output, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void EndToEnd_TrainsAndTestsOnTheGivenCategory()
    {
        string category = SyntheticDataset.Generate(Path.Combine(dir, "data"), size: 48);
        var (code, output, err) = Cli("bench", "e2e", "--data", category, "--config", "tiny-test", "--epochs", "1", "--test-images", "4");
        Assert.True(code == 0, err);
        foreach (string key in new[] { "image_head_s", "pixel_head_s", "test_s", "total_s" })
            Assert.Contains(key, output);
        Assert.Contains("4 test images:", output);
        Assert.Contains("images/s", output);
        Assert.DoesNotContain("torch", output, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void EndToEnd_WithoutData_IsAUsageError()
    {
        var (code, _, err) = Cli("bench", "e2e", "--epochs", "1");
        Assert.Equal(2, code);
        Assert.Contains("--data", err);
    }

    [Fact]
    public void Gemm_RejectsTheReferenceOptions()
    {
        var (code, _, err) = Cli("bench", "gemm", "--no-torch");
        Assert.Equal(2, code);
        Assert.Contains("'--no-torch'", err);
    }

    [Fact]
    public void CpuPeak_IsAPositiveRateWhereTheBuildHasFma()
    {
        double? peak = CpuPeak.MeasureGflops(threads: 1, seconds: 0.05);
        if (CpuPeak.VectorBits == 0) Assert.Null(peak);
        else Assert.True(peak is > 0 && double.IsFinite(peak.Value), $"peak {peak}");
    }
}
