using System.CommandLine;
using PromptAD.Data;
using PromptAD.Output;
using PromptAD.Pipeline;

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
    public int Size { get; init; } = 400;
    public int Batch { get; init; } = 8;
    public string Device { get; init; } = "cpu";
}

/// <summary>
/// `promptad predict`: scores arbitrary images with a trained model (no labels, no masks): scores.csv, one heatmap
/// per image (overlay only, one colour range over all given images), and with --threshold an anomalous yes/no column.
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
        var threshold = new Option<float?>("--threshold") { Description = "image score at or above which an image is called anomalous (adds the 'anomalous' column)" };
        var strict = new Option<bool>("--strict") { Description = "fail (exit 1) on an unreadable image instead of reporting and skipping it" };
        var size = CommonOptions.OutputSize();
        var batch = CommonOptions.Batch();
        var device = BackendChoice.CreateOption();
        var command = new Command("predict", "Scores images with a trained model: anomaly score per image, heatmap per image, optional yes/no at a threshold.")
        {
            images, model, weights, backbone, output, threshold, strict, size, batch, device,
        };
        command.SetAction(p => Run(new PredictArgs
        {
            Images = p.GetValue(images) ?? [], Model = p.GetValue(model)!, Weights = p.GetValue(weights)!, Backbone = p.GetValue(backbone),
            Out = p.GetValue(output)!, Threshold = p.GetValue(threshold), Strict = p.GetValue(strict), Size = p.GetValue(size),
            Batch = p.GetValue(batch), Device = p.GetValue(device)!,
        }));
        return command;
    }

    internal static int Run(PredictArgs args)
    {
        CommonOptions.CheckPositive(args.Size, "--size");
        CommonOptions.CheckPositive(args.Batch, "--batch");
        var files = ImageFiles.Expand(args.Images);
        using var mw = ModelAndWeights.Open(args.Model, args.Weights, args.Backbone, args.Device);
        using var detector = new Detector(mw.Weights, mw.Model, args.Size, args.Batch);
        var source = new DecodedImageSource(detector);
        var heatmaps = new HeatmapSet(Path.Combine(args.Out.FullName, "heatmaps"), args.Size, maskPanel: false);
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
                        args.Threshold is { } t ? score.Score >= t : null));
                }
                bar.Advance(chunk.Count);
            }
        }
        if (rows.Count == 0) throw new IOException("no image could be read");
        heatmaps.Finish();
        ResultsWriter.WritePredictionsCsv(Path.Combine(args.Out.FullName, "scores.csv"), rows, withVerdict: args.Threshold is not null);

        var table = new SummaryTable(args.Threshold is null ? ["image", "score"] : ["image", "score", "anomalous"]);
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
        Console.WriteLine($"results: {args.Out.FullName} (scores.csv, heatmaps/)");
        return 0;
    }
}
