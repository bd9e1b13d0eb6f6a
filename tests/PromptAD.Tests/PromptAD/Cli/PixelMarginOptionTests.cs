using PromptAD.Cli;
using PromptAD.Data;
using PromptAD.Files;
using PromptAD.Jobs;
using PromptAD.Model;

namespace PromptAD.Tests.Cli;

/// <summary>`--pixel-margin as-published|per-patch` (SPEC §5.3): offered by train and run with the published form as
/// the default, recorded in the model and in run's job.json (older jobs ran per patch), other names refused.</summary>
[Collection("Console")]
public sealed class PixelMarginOptionTests : IDisposable
{
    private readonly TinyWorkspace _workspace = new("promptad-margin-", size: 32);

    public void Dispose() => _workspace.Dispose();

    private static (int Code, string Out, string Err) Cli(params string[] args) => Adversarial.Hostile.Cli(args);

    [Theory]
    [InlineData("train")]
    [InlineData("run")]
    public void HelpOffersIt_DefaultAsPublished_AndOtherNamesAreUsageErrors(string verb)
    {
        var (code, output, _) = Cli(verb, "--help");
        Assert.Equal(0, code);
        Assert.Matches(@"--pixel-margin[^\n]*(\n[^-\n][^\n]*)*\[default: as-published\]", output);
        Assert.Contains("per-patch", output);
        var (bad, _, err) = Cli(verb, "--pixel-margin", "per-image");
        Assert.Equal(2, bad);
        Assert.Contains("--pixel-margin: 'per-image' is not one of as-published, per-patch", err);
    }

    [Theory]
    [InlineData(null, "as-published")]
    [InlineData("per-patch", "per-patch")]
    public void TrainRecordsItInTheModel(string? option, string recorded)
    {
        string model = Path.Combine(_workspace.Dir, $"m-{recorded}.safetensors");
        string[] margin = option is null ? [] : ["--pixel-margin", option];
        var r = Cli(["train", "--weights", _workspace.Weights, "--backbone", "tiny-test", "--data", _workspace.Data,
            "--category", SyntheticDataset.Category, "--shots", "1", "--epochs", "2", "--out", model, .. margin]);
        Assert.True(r.Code == 0, r.Err);
        using var m = PromptAdModel.Load(model);
        Assert.Equal(recorded, m.Metadata.Options.PixelMargin.Name());
    }

    [Fact]
    public void RunRecordsItAndAnOlderJobResumesOnlyPerPatch()
    {
        string dir = Path.Combine(_workspace.Dir, "job");
        Directory.CreateDirectory(dir);
        var job = new RunCommand.Job(new FileInfo(_workspace.Weights), "tiny-test", new DirectoryInfo(_workspace.Data), null, [1], 1, null, 1,
            LogitScaleMode.Raw, null, false, false, 32, 4, new DirectoryInfo(dir), global::PromptAD.Pipeline.ComputeDevice.Cpu);
        Assert.Equal(PixelMarginMode.AsPublished, job.PixelMargin);
        var prompts = PromptSource.Resolve(null);
        ResultsFolder.CheckJob(dir, RunJobParameters.Of(job, prompts, out _), "metrics.csv", RunJobParameters.AbsentMeans);
        string path = Path.Combine(dir, ResultsFolder.JobFile);
        Assert.Contains("\"pixel_margin\": \"as-published\"", File.ReadAllText(path));
        var e = Assert.Throws<ArgumentException>(() => ResultsFolder.CheckJob(dir,
            RunJobParameters.Of(job with { PixelMargin = PixelMarginMode.PerPatch }, prompts, out _), "metrics.csv", RunJobParameters.AbsentMeans));
        Assert.Contains("pixel_margin was as-published, now per-patch", e.Message);

        var older = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        Assert.True(older.Remove("pixel_margin"));
        File.WriteAllText(path, older.ToJsonString());
        ResultsFolder.CheckJob(dir, RunJobParameters.Of(job with { PixelMargin = PixelMarginMode.PerPatch }, prompts, out _), "metrics.csv",
            RunJobParameters.AbsentMeans);
        e = Assert.Throws<ArgumentException>(() => ResultsFolder.CheckJob(dir, RunJobParameters.Of(job, prompts, out _), "metrics.csv",
            RunJobParameters.AbsentMeans));
        Assert.Contains("pixel_margin was per-patch, now as-published", e.Message);
    }
}
