using System.CommandLine;
using PromptAD.Bench;
using PromptAD.Cli;
using PromptAD.Data;
using PromptAD.Files;
using PromptAD.Jobs;
using PromptAD.Tests.Ops;

namespace PromptAD.Tests.Cli;

/// <summary>`--precision fp32|tf32|bf16`: beside every `--device`, refused on the CPU, recorded in run's job.json, and
/// the README's `profile` and `bench precision` examples on the emulated GPU with the tiny backbone.</summary>
[Collection("Console")]
public sealed class PrecisionOptionTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("promptad-precision-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static (int Code, string Out, string Err) Cli(params string[] args) => ConsoleCapture.Run(() => PromptAD.Program.Main(args));

    private static string EmulatorLibrary()
    {
        _ = EmulatedKernels.Runtime; // builds libpromptad_emu.so when it is missing or stale
        return Path.Combine(EmulatedKernels.RepositoryRoot(), "kernels", "emulation", "build", "libpromptad_emu.so");
    }

    [Theory]
    [InlineData("demo")]
    [InlineData("train")]
    [InlineData("test")]
    [InlineData("predict")]
    [InlineData("calibrate")]
    [InlineData("serve")]
    [InlineData("run")]
    [InlineData("encode")]
    public void EveryVerbWithADeviceTakesAPrecision(string verb)
    {
        var (code, output, _) = Cli(verb, "--help");
        Assert.Equal(0, code);
        Assert.Contains("--device", output);
        Assert.Contains("--precision", output);
        Assert.Contains("bf16", output);
        var (bad, _, err) = Cli(verb, "--precision", "fp16");
        Assert.Equal(2, bad);
        Assert.Contains("fp16", err);
    }

    [Theory]
    [InlineData("tf32")]
    [InlineData("bf16")]
    public void AReducedPrecisionOnTheCpuIsAUsageErrorNamingTheOption(string precision)
    {
        var (code, _, err) = Cli("demo", "--precision", precision, "--out", Path.Combine(dir, "demo"));
        Assert.Equal(2, code);
        Assert.Contains($"--precision {precision} needs --device cuda", err);
        Assert.False(Directory.Exists(Path.Combine(dir, "demo")) && Directory.EnumerateFileSystemEntries(Path.Combine(dir, "demo")).Any());
    }

    [Theory]
    [InlineData("clip")]
    [InlineData("e2e")]
    [InlineData("serve")]
    public void BenchmarksTakeThePrecisionAndRefuseItOnTheCpu(string suite)
    {
        string[] data = suite == "e2e" ? ["--data", SyntheticDataset.Generate(Path.Combine(dir, "data"), size: 48)] : [];
        var (code, _, err) = Cli(["bench", suite, .. data, "--config", "tiny-test", "--precision", "bf16"]);
        Assert.Equal(2, code);
        Assert.Contains("--precision bf16 needs --device cuda", err);
    }

    [Fact]
    public void RunRecordsThePrecisionAndRefusesToResumeUnderAnother()
    {
        string weights = Path.Combine(dir, "w.safetensors");
        File.WriteAllText(weights, "not read: only hashed");
        var job = new RunCommand.Job(new FileInfo(weights), "tiny-test", new DirectoryInfo(dir), null, [1], 1, null, 1,
            global::PromptAD.Model.LogitScaleMode.Raw, null, false, false, 64, 4, new DirectoryInfo(dir), new global::PromptAD.Pipeline.ComputeDevice(global::PromptAD.Pipeline.DeviceKind.Cuda));
        var prompts = PromptSource.Resolve(null);
        ResultsFolder.CheckJob(dir, RunJobParameters.Of(job, prompts, out _), "metrics.csv");
        Assert.Contains("\"precision\": \"fp32\"", File.ReadAllText(Path.Combine(dir, ResultsFolder.JobFile)));
        ResultsFolder.CheckJob(dir, RunJobParameters.Of(job, prompts, out _), "metrics.csv"); // the same job resumes
        var e = Assert.Throws<ArgumentException>(() =>
            ResultsFolder.CheckJob(dir, RunJobParameters.Of(job with { Device = job.Device with { Precision = global::PromptAD.Kernels.GemmPrecision.Bf16 } }, prompts, out _), "metrics.csv"));
        Assert.Contains("precision was fp32, now bf16", e.Message);

        // A job file from before --precision existed (no precision entry) ran in fp32: it resumes in fp32 only.
        string path = Path.Combine(dir, ResultsFolder.JobFile);
        var older = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        Assert.True(older.Remove("precision"));
        File.WriteAllText(path, older.ToJsonString());
        Assert.DoesNotContain("precision", File.ReadAllText(path));
        ResultsFolder.CheckJob(dir, RunJobParameters.Of(job, prompts, out _), "metrics.csv", RunJobParameters.AbsentMeans);
        e = Assert.Throws<ArgumentException>(() => ResultsFolder.CheckJob(dir,
            RunJobParameters.Of(job with { Device = job.Device with { Precision = global::PromptAD.Kernels.GemmPrecision.Bf16 } }, prompts, out _), "metrics.csv", RunJobParameters.AbsentMeans));
        Assert.Contains("precision was fp32, now bf16", e.Message);
    }

    [Fact]
    public void ProfileCountsTheEmulatedGpuInBf16()
    {
        var (code, output, error) = Cli("profile", "--device", "emulated", "--emulator", EmulatorLibrary(), "--precision", "bf16",
            "--backbone", "tiny-test", "--epochs", "2", "--batches", "1", "--batch", "1");
        Assert.True(code == 0, error);
        Assert.Contains("cuda-emulated bf16", output);
        Assert.Matches(@"train image step 2 +\d+", output);
    }

    /// <summary>The README's `bench precision` example (tiny backbone, emulated GPU) on a generated category, with and
    /// without its optional flags.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void BenchPrecisionComparesFp32WithTheReducedPrecision(bool withOptionalFlags)
    {
        string[] optional = withOptionalFlags ? ["--precision", "tf32", "--size", "32", "--shot", "000.png"] : [];
        string category = SyntheticDataset.Generate(Path.Combine(dir, "data"), size: 48);
        var (code, output, err) = Cli(["bench", "precision", "--data", category, "--device", "emulated", "--emulator", EmulatorLibrary(),
            "--config", "tiny-test", "--epochs", "1", "--test-images", "4", .. optional]);
        Assert.True(code == 0, err);
        Assert.Contains($"fp32 against {(optional.Length == 0 ? "bf16" : "tf32")}", output);
        Assert.Matches(@"largest image-score difference +\d\.\d+E[-+]\d+", output);
        Assert.Matches(@"pixel-map Spearman correlation +0\.9\d+", output);
        Assert.Matches(@"image AUROC % +\d+\.\d\d +\d+\.\d\d", output);
    }

    [Fact]
    public void BenchPrecisionRefusesFp32AndTheCpu()
    {
        var (fp32, _, fp32Err) = Cli("bench", "precision", "--data", dir, "--precision", "fp32");
        Assert.Equal(2, fp32);
        Assert.Contains("--precision: 'fp32' is not one of tf32, bf16", fp32Err);
        var (code, _, err) = Cli("bench", "precision", "--data", dir, "--device", "cpu");
        Assert.Equal(2, code);
        Assert.Contains("--device: 'cpu' is not one of cuda, emulated", err);
    }

    /// <summary>Spearman's rho against hand-worked values (ties share their average rank, as scipy.stats.spearmanr).</summary>
    [Fact]
    public void SpearmanMatchesHandWorkedValues()
    {
        Assert.Equal(1.0, RankCorrelation.Spearman([1f, 5f, 9f], [0f, 2f, 3f]), 12);
        Assert.Equal(-1.0, RankCorrelation.Spearman([1f, 2f, 3f], [3f, 2f, 1f]), 12);
        Assert.Equal(0.5, RankCorrelation.Spearman([1f, 2f, 3f], [1f, 3f, 2f]), 12);
        // x ranks [1, 2.5, 2.5, 4], y ranks [1, 3, 2, 4]: covariance 4.5, variances 4.5 and 5 → 4.5 / √22.5.
        Assert.Equal(4.5 / Math.Sqrt(22.5), RankCorrelation.Spearman([1f, 2f, 2f, 3f], [1f, 3f, 2f, 4f]), 12);
    }
}
