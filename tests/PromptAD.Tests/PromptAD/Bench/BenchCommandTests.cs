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
        // The batch-1 latency beside the test stage: a number of milliseconds, not NaN.
        Assert.Matches(@"one image at batch 1 \(predict, serve\): \d+ ms", output);
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

    /// <summary>The README's `bench serve` example, smaller: both phases over loopback HTTP on the shared fixture's model.</summary>
    [Fact]
    public void Serve_PrintsThroughputAndLatencyOfBothPhases()
    {
        var (code, output, err) = Cli("bench", "serve", "--config", "tiny-test", "--requests", "4", "--clients", "2", "--size", "32");
        Assert.True(code == 0, err);
        Assert.Matches(@"1 client \(batch 1\) +\d+\.\d\d +\d+ +\d+ +1\.0", output);
        Assert.Matches(@"2 clients \(batched ≤ 8\) +\d+\.\d\d", output);
        Assert.Contains("batched / batch 1:", output);
    }

    /// <summary>Each suite is a subcommand whose help lists its own options, and no other suite's.</summary>
    [Theory]
    [InlineData("gemm", "--threads --min-time --rounds", "--data --config --device")]
    [InlineData("clip", "--config --reps --by-op --device --precision", "--data --threads --emulator")]
    [InlineData("gpu", "--reps", "--config --device --data")]
    [InlineData("e2e", "--data --shot --config --epochs --test-images --device --precision", "--reps --emulator --requests")]
    [InlineData("precision", "--data --device --emulator --precision --config --epochs --test-images --size --shot", "--reps --requests")]
    [InlineData("serve", "--config --requests --clients --batch --size --device --precision", "--data --reps --emulator")]
    public void EverySuiteHelpListsItsOwnOptions(string suite, string own, string others)
    {
        var (code, output, err) = Cli("bench", suite, "--help");
        Assert.True(code == 0, err);
        foreach (string option in own.Split(' ')) Assert.Matches($@"(?m)^\s+{option}\b", output);
        foreach (string option in others.Split(' ')) Assert.DoesNotMatch($@"(?m)^\s+{option}\b", output);
    }

    [Fact]
    public void BenchHelpListsTheSuites()
    {
        var (code, output, err) = Cli("bench", "--help");
        Assert.True(code == 0, err);
        foreach (string suite in new[] { "gemm", "clip", "gpu", "e2e", "precision", "serve", "all" }) Assert.Matches($@"(?m)^\s+{suite}\b", output);
    }

    [Theory]
    [InlineData("gemm", "--reps", "2", "'--reps'")]
    [InlineData("clip", "--reps", "0", "--reps must be between 1 and 100000, got 0")]
    [InlineData("serve", "--size", "0", "--size must be between 1 and 4096, got 0")]
    [InlineData("e2e", "--test-images", "0", "--test-images must be between 1 and")]
    [InlineData("clip", "--config", "nope", "nope")]
    public void ABadOrForeignOptionIsAUsageErrorNamingIt(string suite, string option, string value, string message)
    {
        string[] data = suite == "e2e" ? ["--data", dir] : [];
        var (code, _, err) = Cli(["bench", suite, .. data, option, value]);
        Assert.Equal(2, code);
        Assert.Contains(message, err);
    }

    [Fact]
    public void CpuPeak_IsAPositiveRateWhereTheBuildHasFma()
    {
        double? peak = CpuPeak.MeasureGflops(threads: 1, seconds: 0.05);
        if (CpuPeak.VectorBits == 0) Assert.Null(peak);
        else Assert.True(peak is > 0 && double.IsFinite(peak.Value), $"peak {peak}");
    }
}
