using System.CommandLine;
using System.Text;
using PromptAD.Clip.Imaging;
using PromptAD.Output;
using PromptAD.Pipeline;
using PromptAD.Scoring;

namespace PromptAD.Cli;

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
        command.SetAction(p => Run(p.GetValue(images) ?? [], p.GetValue(model)!, p.GetValue(weights)!, p.GetValue(backbone), p.GetValue(output)!,
            p.GetValue(threshold), p.GetValue(strict), p.GetValue(size), p.GetValue(batch), p.GetValue(device)!));
        return command;
    }

    internal static int Run(IReadOnlyList<string> imageArgs, FileInfo modelFile, FileInfo weightsFile, string? backbone, DirectoryInfo output,
        float? threshold, bool strict, int size, int batch, string device)
    {
        OptionRanges.Check(size, "--size", OptionRanges.Size);
        OptionRanges.Check(batch, "--batch", OptionRanges.Batch);
        OptionRanges.CheckFinite(threshold, "--threshold");
        OutputGuard.Folder(output.FullName, "--out", ["scores.csv", "heatmaps/"],
            [new("model file", modelFile.FullName), new("weights file", weightsFile.FullName), .. imageArgs.Select(a => new GuardedInput("image input", a))]);
        var files = ImageFiles.Expand(imageArgs);
        using var mw = ModelAndWeights.Open(modelFile, weightsFile, backbone, device);
        using var folder = ResultsFolder.Open(output.FullName, "predict");
        using var detector = new Detector(mw.Weights, mw.Model, size, batch);
        var pre = new ClipPreprocessor(detector.Config.Vision.ImageSize);
        var skipped = new List<SkippedImage>();
        List<(string Path, RgbImage Thumb, ImageScore Score)> scored;
        using (var bar = new ConsoleProgress("predict", files.Count))
        {
            scored = detector.ScoreAll(files, f =>
            {
                var image = ImageLoader.Load(f);
                return (pre.Preprocess(image), PillowBicubic.Resize(image, size, size));
            },
            strict ? null : (f, e) =>
            {
                skipped.Add(new SkippedImage(f, e.Message));
                Console.Error.WriteLine($"promptad: warning: skipped: {e.Message}");
            },
            chunk => bar.Advance(chunk.Count));
        }
        if (scored.Count == 0) throw new IOException("no image could be read");

        var pngNames = HeatmapNames(scored.Select(s => s.Path));
        var (min, max) = HeatmapRenderer.RangeOf(scored.Select(s => s.Score.PixelMap));
        Parallel.For(0, scored.Count, i => HeatmapRenderer.Write(Path.Combine(output.FullName, "heatmaps", pngNames[i]),
            scored[i].Thumb, scored[i].Score.PixelMap, size, null, min, max, maskPanel: false));

        var csv = new StringBuilder();
        List<string> header = ["path", "image_score", "prompt_score", "vision_max", "heatmap"];
        if (threshold is not null) header.Add("anomalous");
        Csv.AppendRecord(csv, header);
        var table = new SummaryTable(threshold is null ? ["image", "score"] : ["image", "score", "anomalous"]);
        for (int i = 0; i < scored.Count; i++)
        {
            var (path, _, s) = scored[i];
            string verdict = threshold is { } t ? (s.Score >= t ? "yes" : "no") : "";
            List<string> row = [path, Csv.Number(s.Score), Csv.Number(s.PromptScore), Csv.Number(s.VisionMax), "heatmaps/" + pngNames[i]];
            if (threshold is not null) row.Add(verdict);
            Csv.AppendRecord(csv, row);
            // The table names images as their heatmaps are named, so two "000.png" from different folders stay apart.
            string name = Path.GetFileNameWithoutExtension(pngNames[i]) + Path.GetExtension(path);
            if (threshold is null) table.AddRow(name, Fmt.F(s.Score, 4));
            else table.AddRow(name, Fmt.F(s.Score, 4), verdict);
        }
        AtomicFile.WriteAllText(Path.Combine(output.FullName, "scores.csv"), csv.ToString());
        Console.WriteLine();
        table.Write(Console.Out);
        if (skipped.Count > 0) Console.WriteLine($"{skipped.Count} unreadable image(s) skipped");
        Console.WriteLine($"results: {output.FullName} (scores.csv, heatmaps/)");
        return 0;
    }

    /// <summary>
    /// Heatmaps are named after the image; a name already taken (same file name in two folders, or a.png beside
    /// a.jpg) gets the first free suffix _2, _3, …, never one an earlier image holds (a_2.png given as an image too).
    /// Case-insensitive, so no two names fall on one file on Windows or macOS.
    /// </summary>
    internal static List<string> HeatmapNames(IEnumerable<string> imagePaths)
    {
        var taken = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var names = new List<string>();
        foreach (var path in imagePaths)
        {
            string stem = Path.GetFileNameWithoutExtension(path), name = stem + ".png";
            for (int n = 2; !taken.Add(name); n++) name = $"{stem}_{n}.png";
            names.Add(name);
        }
        return names;
    }
}
