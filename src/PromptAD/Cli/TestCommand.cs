using System.CommandLine;
using PromptAD.Data;
using PromptAD.Files;
using PromptAD.Heatmaps;
using PromptAD.Jobs;
using PromptAD.Pipeline;
using PromptAD.Results;

namespace PromptAD.Cli;

/// <summary>What `promptad test` was asked to do.</summary>
internal sealed record TestArgs
{
    public required FileInfo Model { get; init; }
    public required FileInfo Weights { get; init; }

    /// <summary>Backbone to score with; null: the one recorded in the model.</summary>
    public string? Backbone { get; init; }

    public required DirectoryInfo Data { get; init; }

    /// <summary>Category folder under Data; null: the model's.</summary>
    public string? Category { get; init; }

    public required DirectoryInfo Out { get; init; }
    public bool Strict { get; init; }
    public bool Heatmaps { get; init; } = true;
    public RawMapFormat RawMaps { get; init; } = RawMapFormat.None;
    public int Size { get; init; } = 400;
    public int Batch { get; init; } = 8;
    public Pipeline.ComputeDevice Device { get; init; } = Pipeline.ComputeDevice.Cpu;
}

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
        var rawMaps = CommonOptions.RawMaps();
        var size = CommonOptions.OutputSize();
        var batch = CommonOptions.Batch();
        var device = BackendChoice.CreateOptions();
        var command = new Command("test", "Evaluates a model on <data>/<category>/test: image AUROC/AUPR/F1-max, pixel AUROC/AUPRO, per-image scores, heatmaps beside the ground truth.")
        {
            model, weights, backbone, data, category, output, strict, noHeatmaps, rawMaps, size, batch,
        };
        device.AddTo(command);
        command.SetAction(p => Run(new TestArgs
        {
            Model = p.GetValue(model)!, Weights = p.GetValue(weights)!, Backbone = p.GetValue(backbone), Data = p.GetValue(data)!,
            Category = p.GetValue(category), Out = p.GetValue(output)!, Strict = p.GetValue(strict), Heatmaps = !p.GetValue(noHeatmaps),
            RawMaps = RawMapWriter.Parse(p.GetValue(rawMaps)),            Size = p.GetValue(size), Batch = p.GetValue(batch), Device = device.Value(p),
        }));
        return command;
    }

    /// <summary>What test writes into --out (no input may be there).</summary>
    internal static readonly string[] Written = [TestRunner.MetricsJson, "metrics.csv", "scores.csv", ResultsFolder.SkippedFile, ResultsFolder.HeatmapsFolder + "/",
        Results.Report.TestReport.FileName, Results.Report.ReportData.FileName];

    internal static int Run(TestArgs args)
    {
        Evaluate(args);
        return 0;
    }

    internal static TestOutcome Evaluate(TestArgs args)
    {
        OptionRanges.Check(args.Size, "--size", OptionRanges.Size);
        OptionRanges.Check(args.Batch, "--batch", OptionRanges.Batch);
        OutputGuard.Folder(args.Out.FullName, "--out", [.. Written, .. args.RawMaps == RawMapFormat.None ? Array.Empty<string>() : [PredictCommand.RawMapsFolder]], new("model file", args.Model.FullName), new("weights file", args.Weights.FullName),
            new("dataset", args.Data.FullName));
        if (args.Category is not null) AnomalyDataset.CheckCategoryName(args.Category, "--category");
        using var mw = ModelAndWeights.Open(args.Model, args.Weights, args.Backbone, args.Device);
        var dataset = AnomalyDataset.Open(args.Data.FullName, args.Category ?? mw.Model.Metadata.Category);
        using var detector = new Detector(mw.Weights, mw.Model, args.Size, args.Batch);
        using var folder = ResultsFolder.Open(args.Out.FullName, "test");
        var started = DateTime.UtcNow;
        var outcome = TestRunner.Run(detector, dataset, new TestRunOptions
        {
            OutDir = args.Out.FullName, Strict = args.Strict, Heatmaps = args.Heatmaps, RawMaps = args.RawMaps,
            TrainSeconds = mw.Model.Metadata.TrainSeconds ?? double.NaN,
        });
        ResultsFolder.RemoveStaleTestOutputs(args.Out.FullName, started, outcome.Skipped.Count > 0);
        Console.WriteLine();
        TestRunner.MetricsTable(outcome.Metrics).Write(Console.Out);
        Console.WriteLine($"{outcome.Images.Count} image(s) scored" + (outcome.Skipped.Count > 0 ? $", {outcome.Skipped.Count} unreadable and skipped (skipped.txt)" : ""));
        Console.WriteLine($"results: {args.Out.FullName} (metrics.json, metrics.csv, scores.csv{(args.Heatmaps ? ", heatmaps/" : "")}{(args.RawMaps != RawMapFormat.None ? ", maps/" : "")})");
        ReportCommand.PrintLocation(Path.Combine(args.Out.FullName, Results.Report.TestReport.FileName));
        return outcome;
    }
}
