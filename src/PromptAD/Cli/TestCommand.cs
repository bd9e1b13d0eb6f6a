using System.CommandLine;
using PromptAD.Data;
using PromptAD.Output;
using PromptAD.Pipeline;

namespace PromptAD.Cli;

/// <summary>`promptad test`: scores a category's test split with a trained model; metrics, per-image scores, heatmaps.</summary>
internal static class TestCommand
{
    public static Command Create()
    {
        var model = new Option<FileInfo>("--model") { Description = "model file written by `promptad train`", Required = true };
        var weights = CommonOptions.Weights();
        var backbone = CommonOptions.BackboneOverride();
        var data = CommonOptions.Data();
        var category = new Option<string?>("--category") { Description = "category folder under --data (default: the model's)" };
        var output = new Option<DirectoryInfo>("--out") { Description = "folder for metrics.json/.csv, scores.csv and heatmaps/<defect>/<name>.png", Required = true };
        var strict = new Option<bool>("--strict") { Description = "fail (exit 1) on an unreadable image instead of reporting and skipping it" };
        var noHeatmaps = new Option<bool>("--no-heatmaps") { Description = "skip the heatmap PNGs" };
        var size = CommonOptions.OutputSize();
        var batch = CommonOptions.Batch();
        var device = BackendChoice.CreateOption();
        var command = new Command("test", "Evaluates a model on <data>/<category>/test: image AUROC/AUPR/F1-max, pixel AUROC/AUPRO, per-image scores, heatmaps beside the ground truth.")
        {
            model, weights, backbone, data, category, output, strict, noHeatmaps, size, batch, device,
        };
        command.SetAction(p => Run(p.GetValue(model)!, p.GetValue(weights)!, p.GetValue(backbone), p.GetValue(data)!, p.GetValue(category),
            p.GetValue(output)!, p.GetValue(strict), !p.GetValue(noHeatmaps), p.GetValue(size), p.GetValue(batch), p.GetValue(device)!));
        return command;
    }

    /// <summary>What test writes into --out (no input may be there).</summary>
    internal static readonly string[] Written = [TestRunner.MetricsJson, "metrics.csv", "scores.csv", ResultsFolder.SkippedFile, ResultsFolder.HeatmapsFolder + "/"];

    internal static int Run(FileInfo modelFile, FileInfo weightsFile, string? backbone, DirectoryInfo data, string? category, DirectoryInfo output,
        bool strict, bool heatmaps, int size, int batch, string device)
    {
        Evaluate(modelFile, weightsFile, backbone, data, category, output, strict, heatmaps, size, batch, device);
        return 0;
    }

    internal static TestOutcome Evaluate(FileInfo modelFile, FileInfo weightsFile, string? backbone, DirectoryInfo data, string? category, DirectoryInfo output,
        bool strict, bool heatmaps, int size, int batch, string device)
    {
        OptionRanges.Check(size, "--size", OptionRanges.Size);
        OptionRanges.Check(batch, "--batch", OptionRanges.Batch);
        OutputGuard.Folder(output.FullName, "--out", Written, new("model file", modelFile.FullName), new("weights file", weightsFile.FullName), new("dataset", data.FullName));
        using var mw = ModelAndWeights.Open(modelFile, weightsFile, backbone, device);
        var dataset = AnomalyDataset.Open(data.FullName, category ?? mw.Model.Metadata.Category);
        using var detector = new Detector(mw.Weights, mw.Model, size, batch);
        using var folder = ResultsFolder.Open(output.FullName, "test");
        var started = DateTime.UtcNow;
        var outcome = TestRunner.Run(detector, dataset, output.FullName, strict, heatmaps, 0, mw.Model.Metadata.Options.Seed);
        ResultsFolder.RemoveStaleTestOutputs(output.FullName, started, outcome.Skipped.Count > 0);
        Console.WriteLine();
        TestRunner.MetricsTable(outcome.Metrics).Write(Console.Out);
        Console.WriteLine($"{outcome.Samples.Count} image(s) scored" + (outcome.Skipped.Count > 0 ? $", {outcome.Skipped.Count} unreadable and skipped (skipped.txt)" : ""));
        Console.WriteLine($"results: {output.FullName} (metrics.json, metrics.csv, scores.csv{(heatmaps ? ", heatmaps/" : "")})");
        return outcome;
    }
}
