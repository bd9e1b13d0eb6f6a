using System.Diagnostics;
using System.Runtime;
using PromptAD.Clip.Imaging;
using PromptAD.Data;
using PromptAD.Evaluation;
using PromptAD.Heatmaps;
using PromptAD.Results;
using PromptAD.Scoring;

namespace PromptAD.Pipeline;

/// <summary>Progress after each scored chunk of test images.</summary>
public sealed record EvaluationProgress(int Done, int Total, string LastImage);

/// <summary>How the evaluation loop runs, beside its scores and samples.</summary>
public sealed record EvaluationOptions
{
    /// <summary>An unreadable image (or mask) ends the run instead of being reported and left out.</summary>
    public bool Strict { get; init; }

    /// <summary>Where each scored image's heatmap goes (named &lt;defect&gt;/&lt;image&gt;.png); null for none.</summary>
    public HeatmapSet? Heatmaps { get; init; }

    /// <summary>Sees each image left out as unreadable, as it happens (warnings).</summary>
    public Action<SkippedImage>? OnSkipped { get; init; }

    public IProgress<EvaluationProgress>? Progress { get; init; }

    public CancellationToken CancellationToken { get; init; }

    /// <summary>Masks already prepared at the detector's output size (shared by the evaluations of one test set); null:
    /// prepared for this evaluation only.</summary>
    public MaskCache? Masks { get; init; }
}

/// <summary>What the loop keeps: one small row per image, the images left out, the metrics and the wall time.</summary>
public sealed record EvaluationResult(IReadOnlyList<ImageResult> Images, IReadOnlyList<SkippedImage> Skipped, EvaluationMetrics Metrics, double Seconds)
{
    /// <summary>The curves behind the metrics, from the same sweeps (thinned for drawing; pixel curves null when not computed).</summary>
    public MetricCurves? Curves { get; init; }
}

/// <summary>
/// The evaluation loop (test, run, demo, the benches and the tests all go through it): takes each scored chunk from an
/// <see cref="IScoreSource"/>, feeds the metric accumulators and the heatmap writer, and drops it. Masks are binarized
/// and resized (nearest) to the detector's output size; normal images count as all-normal; a mask whose size differs
/// from its image is always an error (it would silently score against the wrong pixels).
/// </summary>
public static class Evaluator
{
    public static EvaluationResult Evaluate(IScoreSource source, IReadOnlyList<TestSample> samples, EvaluationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(samples);
        options ??= new EvaluationOptions();
        var clock = Stopwatch.StartNew();
        int size = source.Detector.OutputSize;
        var images = new List<ImageResult>(samples.Count);
        var skipped = new List<SkippedImage>();
        using var pixels = new PixelMetricsAccumulator();
        var masks = options.Masks ?? new MaskCache(size);
        if (masks.Size != size) throw new ArgumentException($"the mask cache holds {masks.Size} px masks, the detector scores {size} px maps");
        var names = new Dictionary<string, HeatmapNames>(StringComparer.Ordinal);
        int done = 0;

        void Skip(TestSample sample, ImageLoadException e)
        {
            var s = new SkippedImage(sample.ImagePath, e.Message);
            skipped.Add(s);
            options.OnSkipped?.Invoke(s);
            done++;
        }

        foreach (var chunk in source.Score(samples, options.Strict ? null : Skip, options.CancellationToken))
        {
            foreach (var (sample, score, decoded) in chunk)
            {
                ScoredMask? mask;
                try
                {
                    mask = sample.MaskPath is { } maskPath ? masks.Get(maskPath) : null;
                }
                catch (ImageLoadException e) when (!options.Strict)
                {
                    Skip(sample, e);
                    continue;
                }

                if (mask is not null && decoded is not null && (mask.SourceWidth != decoded.Width || mask.SourceHeight != decoded.Height))
                {
                    throw new DatasetException($"Mask '{sample.MaskPath}' is {mask.SourceWidth}×{mask.SourceHeight} but its image '{sample.ImagePath}' is {decoded.Width}×{decoded.Height}.");
                }

                images.Add(ImageResult.From(sample, score));
                pixels.Add(score.PixelMap, mask);
                if (options.Heatmaps is { } heatmaps)
                {
                    // Named like the image within its defect folder; a.png and a.jpg in one folder must not share a file.
                    if (!names.TryGetValue(sample.DefectType, out var folder)) names[sample.DefectType] = folder = new HeatmapNames();
                    // A defect without a mask shows the "no mask" panel; a good image an all-black (empty) mask.
                    var photo = decoded ?? ImageLoader.Load(sample.ImagePath);
                    var gt = sample.MaskPath is { } path ? MaskLoader.Load(path) : sample.IsAnomalous ? null : BinaryMask.Empty(photo.Width, photo.Height);
                    heatmaps.Add(Path.Combine(sample.DefectType, folder.Next(sample.ImagePath)), photo, score.PixelMap, gt);
                }

                // The metrics and the heatmaps have copied what they need: the map serves the next batch.
                if (score.MapFromPool) PixelMapPool.Return(score.PixelMap);

                done++;
            }

            if (chunk.Count > 0) options.Progress?.Report(new EvaluationProgress(done, samples.Count, chunk[^1].Sample.ImagePath));
        }

        if (images.Count == 0)
        {
            throw new DatasetException(samples.Count == 0 ? "There is no test image."
                : $"None of the {samples.Count} test image(s) could be read (the first: '{samples[0].ImagePath}').");
        }

        // Scoring leaves much large-object garbage (decoded photos, masks, maps) that the GC would otherwise keep until
        // pressure; dropping it here keeps the peak at the larger of the two phases (scoring, the metrics' sweep) rather
        // than their sum, and independent of the number of images.
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect();
        var pixelSweep = pixels.Compute(MetricCurves.AuproLimit, MetricCurves.Step);
        var scores = images.Select(r => (double)r.Score).ToArray();
        var labels = images.Select(r => r.IsAnomalous).ToArray();
        var metrics = new EvaluationMetrics(ImageMetrics.Auroc(scores, labels), ImageMetrics.AveragePrecision(scores, labels),
            ImageMetrics.F1Max(scores, labels), pixelSweep.Auroc, pixelSweep.Aupro);
        var imageCurves = ImageMetrics.Curves(scores, labels, MetricCurves.Step);
        double seconds = clock.Elapsed.TotalSeconds;
        return new EvaluationResult(images, skipped, metrics, seconds) { Curves = new MetricCurves(imageCurves, pixelSweep.Roc, pixelSweep.Pro) };
    }
}
