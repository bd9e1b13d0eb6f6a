using System.Diagnostics;
using PromptAD.Clip.Imaging;
using PromptAD.Data;
using PromptAD.Output;
using PromptAD.Pipeline;
using PromptAD.Scoring;

namespace PromptAD.Cli;

/// <summary>An image that could not be read, and why.</summary>
internal sealed record SkippedImage(string Path, string Reason);

/// <summary>A test's results; <see cref="MetricsSeconds"/> is the part of the test time spent computing the metrics.</summary>
internal sealed record TestOutcome(RunMetrics Metrics, IReadOnlyList<SampleResult> Samples, IReadOnlyList<SkippedImage> Skipped, string OutDir,
    double MetricsSeconds = 0);

/// <summary>
/// Scores a dataset's test split and writes the results (shared by test, run and demo). Unlike
/// <see cref="Evaluator.Evaluate"/> it reads each image once and keeps going past an unreadable one (reported and
/// left out of the metrics) unless strict; a mask whose size differs from its image is always an error (it would
/// silently score against the wrong pixels). Files: heatmaps/&lt;defect&gt;/&lt;name&gt;.png (one colour range over the
/// whole test set), scores.csv, metrics.csv, and metrics.json last — its presence marks a finished run.
/// </summary>
internal static class TestRunner
{
    public const string MetricsJson = "metrics.json";

    /// <summary>
    /// A cap (bench --test-images) keeps normal and defective images in proportion, at least one of each when both
    /// exist (the metrics need both classes), evenly spaced within each group, in the original order.
    /// </summary>
    internal static List<TestSample> Subsample(IReadOnlyList<TestSample> all, int max)
    {
        if (max >= all.Count) return [.. all];
        var normal = Enumerable.Range(0, all.Count).Where(i => !all[i].IsAnomalous).ToList();
        var defective = Enumerable.Range(0, all.Count).Where(i => all[i].IsAnomalous).ToList();
        int takeNormal = normal.Count == 0 ? 0 : defective.Count == 0 ? max
            : Math.Clamp((int)Math.Round((double)max * normal.Count / all.Count), 1, Math.Max(1, max - 1));
        static IEnumerable<int> Spaced(List<int> from, int n) => Enumerable.Range(0, n).Select(i => from[(int)((long)i * from.Count / n)]);
        return [.. Spaced(normal, takeNormal).Concat(Spaced(defective, max - takeNormal)).Order().Select(i => all[i])];
    }

    public static TestOutcome Run(Detector detector, AnomalyDataset dataset, string outDir, bool strict, bool heatmaps,
        double trainSeconds, int seed, TextWriter? progressWriter = null, int maxImages = int.MaxValue, FeatureCache? cache = null)
    {
        var clock = Stopwatch.StartNew();
        var samples = Subsample(dataset.TestSamples, maxImages);
        var pre = new ClipPreprocessor(detector.Config.Vision.ImageSize);
        int size = detector.OutputSize;
        var skipped = new List<SkippedImage>();
        List<(TestSample Item, (BinaryMask? Mask, RgbImage? Thumb) Loaded, ImageScore Score)> scored;
        using (var bar = new ConsoleProgress($"test {dataset.Category}", samples.Count, progressWriter))
        {
            // The mask must match its image's size; the thumbnail is only decoded for heatmaps.
            (BinaryMask? Mask, RgbImage? Thumb) Extras(TestSample s, (int Width, int Height) imageSize, Func<RgbImage> image)
            {
                BinaryMask? mask = s.MaskPath is { } maskPath ? MaskLoader.Load(maskPath) : null;
                if (mask is not null && (mask.Width != imageSize.Width || mask.Height != imageSize.Height))
                    throw new DatasetException($"Mask '{s.MaskPath}' is {mask.Width}×{mask.Height} but its image '{s.ImagePath}' is {imageSize.Width}×{imageSize.Height}.");
                return (mask?.ResizeNearest(size, size), heatmaps ? PillowBicubic.Resize(image(), size, size) : null);
            }
            Action<TestSample, ImageLoadException>? onUnreadable = strict ? null : (s, e) =>
            {
                skipped.Add(new SkippedImage(e.ImagePath, e.Message));
                Console.Error.WriteLine($"promptad: warning: skipped: {e.Message}");
            };
            scored = cache is null
                ? detector.ScoreAll(samples, s =>
                {
                    var image = ImageLoader.Load(s.ImagePath);
                    return (pre.Preprocess(image), Extras(s, (image.Width, image.Height), () => image));
                }, onUnreadable, chunk => bar.Advance(chunk.Count))
                : detector.ScoreAll(cache, samples, s =>
                {
                    int index = cache.IndexOf(s.ImagePath);
                    if (index < 0) throw new ArgumentException($"test image '{s.ImagePath}' is not in the feature cache");
                    return (index, Extras(s, cache.SizeOf(index), () => ImageLoader.Load(s.ImagePath)));
                }, onUnreadable, chunk => bar.Advance(chunk.Count));
        }
        var results = scored.Select(x => new SampleResult(x.Item, x.Score)).ToList();
        var masks = scored.Select(x => x.Loaded.Mask).ToList();
        if (results.Count == 0) throw new DatasetException($"No test image of '{dataset.Directory}' could be read.");
        var metricsClock = Stopwatch.StartNew();
        var m = Evaluator.Metrics(results, masks);
        double metricsSeconds = metricsClock.Elapsed.TotalSeconds;
        double testSeconds = clock.Elapsed.TotalSeconds;

        if (heatmaps) WriteHeatmaps(results, masks, [.. scored.Select(x => x.Loaded.Thumb!)], size, Path.Combine(outDir, "heatmaps"), progressWriter);
        var metrics = new RunMetrics(dataset.Category, detector.Model.Metadata.Shots, seed, detector.Config.Name,
            m.ImageAuroc / 100, m.ImageAupr / 100, m.ImageF1Max / 100, m.PixelAuroc / 100, m.PixelAupro / 100, trainSeconds, testSeconds);
        ResultsWriter.WriteScoresCsv(Path.Combine(outDir, "scores.csv"), results.Select(r => ImageResult.From(r.Sample, r.Score)), dataset.Root);
        if (skipped.Count > 0)
            AtomicFile.WriteAllText(Path.Combine(outDir, "skipped.txt"), string.Concat(skipped.Select(s => s.Path + "\t" + s.Reason + "\n")));
        ResultsWriter.WriteMetricsCsv(Path.Combine(outDir, "metrics.csv"), [metrics]);
        ResultsWriter.WriteMetricsJson(Path.Combine(outDir, MetricsJson), metrics);
        return new TestOutcome(metrics, results, skipped, outDir, metricsSeconds);
    }

    private static void WriteHeatmaps(List<SampleResult> results, List<BinaryMask?> masks, List<RgbImage> thumbs, int size, string dir, TextWriter? progressWriter)
    {
        var (min, max) = HeatmapRenderer.RangeOf(results.Select(r => r.Score.PixelMap));
        using var bar = new ConsoleProgress("heatmaps", results.Count, progressWriter);
        // Named like the image within its defect folder; a.png and a.jpg in one folder must not share a heatmap.
        var names = new string[results.Count];
        foreach (var group in Enumerable.Range(0, results.Count).GroupBy(i => results[i].Sample.DefectType))
            foreach (var (i, name) in group.Zip(PredictCommand.HeatmapNames(group.Select(i => results[i].Sample.ImagePath))))
                names[i] = Path.Combine(group.Key, name);
        Parallel.For(0, results.Count, i =>
        {
            var s = results[i].Sample;
            // A defect without a mask shows the "no mask" panel; a good image an all-black (empty) mask.
            BinaryMask? gt = masks[i] ?? (s.IsAnomalous ? null : BinaryMask.Empty(size, size));
            HeatmapRenderer.Write(Path.Combine(dir, names[i]),
                thumbs[i], results[i].Score.PixelMap, size, gt, min, max);
            bar.Advance();
        });
    }

    public static SummaryTable MetricsTable(RunMetrics m)
    {
        var t = new SummaryTable("metric", "value");
        foreach (var metric in ResultMetrics.All) t.AddRow(metric.Title(), Fmt.F(m.Of(metric) * 100, 1));
        if (m.TrainSeconds > 0) t.AddRow("train seconds", Fmt.F(m.TrainSeconds, 1)); // 0 = trained elsewhere (test verb)
        t.AddRow("test seconds", Fmt.F(m.TestSeconds, 1));
        return t;
    }
}
