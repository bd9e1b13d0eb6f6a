using PromptAD.Data;
using PromptAD.Evaluation;
using PromptAD.Files;
using PromptAD.Heatmaps;
using PromptAD.Pipeline;
using PromptAD.Results;
using PromptAD.Results.Report;
using PromptAD.Terminal;

namespace PromptAD.Jobs;

/// <summary>How <see cref="TestRunner.Run"/> tests and what it records beside the metrics.</summary>
internal sealed record TestRunOptions
{
    public required string OutDir { get; init; }
    public bool Strict { get; init; }
    public bool Heatmaps { get; init; } = true;

    /// <summary>Also write each raw score map at its image's size (maps/&lt;defect&gt;/&lt;name&gt;).</summary>
    public RawMapFormat RawMaps { get; init; } = RawMapFormat.None;

    /// <summary>Training time to record (NaN: unknown, left out of metrics.json).</summary>
    public double TrainSeconds { get; init; } = double.NaN;

    public TextWriter? ProgressWriter { get; init; }

    /// <summary>A cap on the test images (bench --test-images), see <see cref="TestRunner.Subsample"/>.</summary>
    public int MaxImages { get; init; } = int.MaxValue;

    /// <summary>The test set's masks prepared once for every model scored on it (run), or null.</summary>
    public MaskCache? Masks { get; init; }
}

internal sealed record TestOutcome(RunMetrics Metrics, IReadOnlyList<ImageResult> Images, IReadOnlyList<SkippedImage> Skipped, string OutDir);

/// <summary>
/// Tests a dataset's test split through the evaluation loop and writes the results (shared by test, run, demo and
/// bench e2e). Unreadable images are reported and left out unless strict. Files: heatmaps/&lt;defect&gt;/&lt;name&gt;.png
/// (one colour range over the whole test set, at each image's proportions), maps/&lt;defect&gt;/&lt;name&gt;.png|.tiff
/// (raw maps, on request), scores.csv, skipped.txt (when any), metrics.csv, report-data.json and report.html, and metrics.json last —
/// its presence marks a finished run.
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

    public static TestOutcome Run(Detector detector, AnomalyDataset dataset, TestRunOptions options) =>
        Run(new DecodedImageSource(detector), dataset, options);

    public static TestOutcome Run(IScoreSource source, AnomalyDataset dataset, TestRunOptions options)
    {
        var samples = Subsample(dataset.TestSamples, options.MaxImages);
        using var heatmaps = options.Heatmaps || options.RawMaps != RawMapFormat.None
            ? new HeatmapSet(options.OutDir, source.Detector.OutputSize, maskPanel: true, options.RawMaps, overlays: options.Heatmaps) : null;
        EvaluationResult result;
        using (var bar = new ConsoleProgress($"test {dataset.Category}", samples.Count, options.ProgressWriter))
        {
            // Undefined metrics (one class only, NaN scores) are the data's failure (exit 1), not a usage error.
            result = DataFailure.Of(() => Evaluator.Evaluate(source, samples, new EvaluationOptions
            {
                Strict = options.Strict,
                Heatmaps = heatmaps,
                Masks = options.Masks,
                OnSkipped = s => Console.Error.WriteLine($"promptad: warning: skipped: {s.Reason}"),
                Progress = new SyncProgress<EvaluationProgress>(p => bar.Report(p.Done)),
            }), dataset.Directory);
        }

        heatmaps?.Finish(options.ProgressWriter);
        var meta = source.Detector.Model.Metadata;
        var metrics = new RunMetrics(dataset.Category, meta.Shots, meta.Options.Seed, source.Detector.Config.Name, result.Metrics,
            options.TrainSeconds, result.Seconds);
        ResultsWriter.WriteScoresCsv(Path.Combine(options.OutDir, "scores.csv"), result.Images, dataset.Root);
        if (result.Skipped.Count > 0) SkippedImage.WriteList(Path.Combine(options.OutDir, "skipped.txt"), result.Skipped);
        ResultsWriter.WriteMetricsCsv(Path.Combine(options.OutDir, "metrics.csv"), [metrics]);
        TestReport.Write(options.OutDir, metrics, ReportDataOf(result, dataset.Root, options.Heatmaps, meta.Threshold, source.Detector.OutputSize));
        ResultsWriter.WriteMetricsJson(Path.Combine(options.OutDir, MetricsJson), metrics);
        return new TestOutcome(metrics, result.Images, result.Skipped, options.OutDir);
    }

    /// <summary>
    /// What the report draws besides the metrics: each image (path relative to the dataset root, its heatmap named as
    /// <see cref="Evaluator"/> named it), the curves, and the model's stored threshold or else the F1-optimal one.
    /// </summary>
    private static ReportData ReportDataOf(EvaluationResult result, string datasetRoot, bool heatmaps, Model.StoredThreshold? stored, int mapSize)
    {
        var names = new Dictionary<string, HeatmapNames>(StringComparer.Ordinal);
        var images = result.Images.Select(r =>
        {
            if (!names.TryGetValue(r.DefectType, out var folder)) names[r.DefectType] = folder = new HeatmapNames();
            string heatmap = $"{ResultsFolder.HeatmapsFolder}/{r.DefectType}/{folder.Next(r.ImagePath)}";
            return new ReportImage(Path.GetRelativePath(datasetRoot, r.ImagePath).Replace('\\', '/'), r.DefectType, r.IsAnomalous, r.Score, heatmaps ? heatmap : null);
        }).ToList();
        var curves = result.Curves ?? throw new InvalidOperationException("The evaluation returned no curves.");
        // A stored threshold keeps its false-alarm rate only at the map size it was calibrated at (the image score is the
        // map's maximum): at another size the report marks the F1-optimal one and says why, as predict and serve refuse it.
        var threshold = stored is { } t && t.Size == mapSize ? new ReportThreshold(t.Threshold, "stored in the model: " + t.Describe())
            : new ReportThreshold(curves.Image.F1Threshold, stored is null ? "F1-optimal on this test set; the model has no stored threshold"
                : $"F1-optimal on this test set; the model's stored threshold was calibrated on {stored.Size} px maps, not these {mapSize} px ones");
        return new ReportData(images, curves, threshold);
    }

    public static SummaryTable MetricsTable(RunMetrics m)
    {
        var t = new SummaryTable("metric", "value");
        foreach (var metric in ResultMetrics.All) t.AddRow(metric.Title(), Fmt.F(m.Of(metric) * 100, 1));
        if (!double.IsNaN(m.TrainSeconds)) t.AddRow("train seconds", Fmt.F(m.TrainSeconds, 1));
        t.AddRow("test seconds", Fmt.F(m.TestSeconds, 1));
        return t;
    }
}
