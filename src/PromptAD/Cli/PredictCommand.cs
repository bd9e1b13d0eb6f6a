using System.CommandLine;
using PromptAD.Calibration;
using PromptAD.Data;
using PromptAD.Files;
using PromptAD.Heatmaps;
using PromptAD.Pipeline;
using PromptAD.Results;
using PromptAD.Terminal;

namespace PromptAD.Cli;

/// <summary>What `promptad predict` was asked to do.</summary>
internal sealed record PredictArgs
{
    /// <summary>Image files and/or folders.</summary>
    public required IReadOnlyList<string> Images { get; init; }

    public required FileInfo Model { get; init; }
    public required FileInfo Weights { get; init; }
    public string? Backbone { get; init; }
    public required DirectoryInfo Out { get; init; }

    /// <summary>Image score at or above which an image is called anomalous; null: no verdict column.</summary>
    public float? Threshold { get; init; }

    public bool Strict { get; init; }
    public RawMapFormat RawMaps { get; init; } = RawMapFormat.None;
    public int Size { get; init; } = 400;
    public int Batch { get; init; } = 8;
    public Pipeline.ComputeDevice Device { get; init; } = Pipeline.ComputeDevice.Cpu;
}

/// <summary>
/// `promptad predict`: scores arbitrary images with a trained model (no labels, no masks): scores.csv, one heatmap
/// per image (overlay only at the image's proportions, one colour range over all given images), with --threshold an
/// anomalous yes/no column, with --raw-maps the score maps at each image's size.
/// </summary>
internal static class PredictCommand
{
    public static Command Create()
    {
        var images = new Argument<string[]>("images") { Description = "image files and/or folders (every image inside, name-sorted)", Arity = ArgumentArity.OneOrMore };
        var model = new Option<FileInfo>("--model") { Description = "model file written by `promptad train`", Required = true };
        var weights = CommonOptions.Weights();
        var backbone = CommonOptions.BackboneOverride();
        var output = new Option<DirectoryInfo>("--out") { Description = "folder for scores.csv and heatmaps/<name>.png", Required = true };
        var threshold = ThresholdOption.Create("image score at or above which an image is called anomalous (a finite number; adds the 'anomalous' column); " +
            "default: the threshold `promptad calibrate` stored in the model, if any (refused when calibrated at another --size)");
        var strict = new Option<bool>("--strict") { Description = "fail (exit 1) on an unreadable image instead of reporting and skipping it" };
        var rawMaps = CommonOptions.RawMaps();
        var size = CommonOptions.OutputSize();
        var batch = CommonOptions.Batch();
        var device = BackendChoice.CreateOptions();
        var command = new Command("predict", "Scores images with a trained model: anomaly score per image, heatmap per image, optional yes/no at a threshold.")
        {
            images, model, weights, backbone, output, threshold, strict, rawMaps, size, batch,
        };
        device.AddTo(command);
        command.SetAction(p => Run(new PredictArgs
        {
            Images = p.GetValue(images) ?? [], Model = p.GetValue(model)!, Weights = p.GetValue(weights)!, Backbone = p.GetValue(backbone),
            Out = p.GetValue(output)!, Threshold = p.GetValue(threshold), Strict = p.GetValue(strict), RawMaps = RawMapWriter.Parse(p.GetValue(rawMaps)), Size = p.GetValue(size),
            Batch = p.GetValue(batch), Device = device.Value(p),
        }));
        return command;
    }

    /// <summary>Where --raw-maps go (HeatmapSet), guarded like every other output.</summary>
    internal const string RawMapsFolder = "maps/";

    internal static int Run(PredictArgs args)
    {
        OptionRanges.Check(args.Size, "--size", OptionRanges.Size);
        OptionRanges.Check(args.Batch, "--batch", OptionRanges.Batch);
        OutputGuard.Folder(args.Out.FullName, "--out", ["scores.csv", "heatmaps/", .. args.RawMaps == RawMapFormat.None ? Array.Empty<string>() : [RawMapsFolder]],
            [new("model file", args.Model.FullName), new("weights file", args.Weights.FullName), .. args.Images.Select(a => new GuardedInput("image input", a))]);
        var files = ImageFiles.Expand(args.Images);
        using var mw = ModelAndWeights.Open(args.Model, args.Weights, args.Backbone, args.Device);
        using var folder = ResultsFolder.Open(args.Out.FullName, "predict");
        var threshold = DecisionThreshold.Resolve(args.Threshold, mw.Model.Metadata.Threshold, args.Size, $"model '{args.Model.FullName}'");
        if (threshold is not null) Console.WriteLine(ThresholdOption.Describe(threshold));
        using var detector = new Detector(mw.Weights, mw.Model, args.Size, args.Batch);
        var source = new DecodedImageSource(detector);
        using var heatmaps = new HeatmapSet(args.Out.FullName, args.Size, maskPanel: false, args.RawMaps);
        var names = new HeatmapNames();
        var rows = new List<Prediction>();
        int skipped = 0;
        var samples = files.Select(f => new TestSample(f, "", false, null)).ToList();
        using (var bar = new ConsoleProgress("predict", files.Count))
        {
            foreach (var chunk in source.Score(samples, args.Strict ? null : (s, e) =>
            {
                skipped++;
                bar.Advance();
                Console.Error.WriteLine($"promptad: warning: skipped: {e.Message}");
            }, default))
            {
                foreach (var (sample, score, photo) in chunk)
                {
                    string name = names.Next(sample.ImagePath);
                    heatmaps.Add(name, photo!, score.PixelMap, null);
                    rows.Add(new Prediction(sample.ImagePath, score.Score, score.PromptScore, score.VisionMax, "heatmaps/" + name,
                        threshold?.IsAnomalous(score.Score)));
                }
                bar.Advance(chunk.Count);
            }
        }
        if (rows.Count == 0) throw new IOException("no image could be read");
        heatmaps.Finish();
        ResultsWriter.WritePredictionsCsv(Path.Combine(args.Out.FullName, "scores.csv"), rows, withVerdict: threshold is not null);

        var table = new SummaryTable(threshold is null ? ["image", "score"] : ["image", "score", "anomalous"]);
        foreach (var r in rows)
        {
            // The table names images as their heatmaps are named, so two "000.png" from different folders stay apart.
            string name = Path.GetFileNameWithoutExtension(r.Heatmap) + Path.GetExtension(r.ImagePath);
            if (r.Anomalous is { } yes) table.AddRow(name, Fmt.F(r.Score, 4), yes ? "yes" : "no");
            else table.AddRow(name, Fmt.F(r.Score, 4));
        }
        Console.WriteLine();
        table.Write(Console.Out);
        if (skipped > 0) Console.WriteLine($"{skipped} unreadable image(s) skipped");
        Console.WriteLine($"results: {args.Out.FullName} (scores.csv, heatmaps/{(args.RawMaps != RawMapFormat.None ? ", maps/" : "")})");
        return 0;
    }
}
