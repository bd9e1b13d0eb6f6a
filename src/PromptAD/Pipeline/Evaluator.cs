using PromptAD.Clip.Imaging;
using PromptAD.Data;
using PromptAD.Evaluation;
using PromptAD.Scoring;

namespace PromptAD.Pipeline;

/// <summary>One test image's result.</summary>
public sealed record SampleResult(TestSample Sample, ImageScore Score);

/// <summary>The protocol's metrics (SPEC §7), ×100. Pixel metrics are NaN when no test image has an anomalous pixel.</summary>
public sealed record EvaluationMetrics(double ImageAuroc, double ImageAupr, double ImageF1Max, double PixelAuroc, double PixelAupro);

public sealed record EvaluationResult(IReadOnlyList<SampleResult> Samples, EvaluationMetrics Metrics);

/// <summary>Progress after each scored batch of test images.</summary>
public sealed record EvaluationProgress(int Done, int Total, string LastImage);

/// <summary>
/// Runs a <see cref="Detector"/> over a dataset's test split and computes the metrics: masks are binarized and
/// resized (nearest) to the detector's output size; normal images count as all-normal.
/// </summary>
public static class Evaluator
{
    public static EvaluationResult Evaluate(Detector detector, AnomalyDataset dataset, IProgress<EvaluationProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        var samples = dataset.TestSamples;
        var pre = new ClipPreprocessor(detector.Config.Vision.ImageSize);
        int size = detector.OutputSize;
        int done = 0;
        var scored = detector.ScoreAll(samples,
            s => (pre.Preprocess(s.ImagePath), s.MaskPath is { } m ? MaskLoader.Load(m, size, size) : null),
            onBatchDone: chunk => progress?.Report(new EvaluationProgress(done += chunk.Count, samples.Count, chunk[^1].ImagePath)),
            cancellationToken: cancellationToken);
        var results = scored.Select(x => new SampleResult(x.Item, x.Score)).ToList();
        var masks = scored.Select(x => x.Loaded).ToList();
        return new EvaluationResult(results, Metrics(results, masks));
    }

    /// <summary>Image metrics from the scores and labels, pixel metrics from the maps and masks, ×100.</summary>
    public static EvaluationMetrics Metrics(IReadOnlyList<SampleResult> results, IReadOnlyList<BinaryMask?> masks)
    {
        var scores = results.Select(r => (double)r.Score.Score).ToArray();
        var labels = results.Select(r => r.Sample.IsAnomalous).ToArray();
        var maps = results.Select(r => r.Score.PixelMap).ToList();
        bool anyDefectPixel = masks.Any(m => m is not null && m.Any());
        return new EvaluationMetrics(
            100 * ImageMetrics.Auroc(scores, labels),
            100 * ImageMetrics.AveragePrecision(scores, labels),
            100 * ImageMetrics.F1Max(scores, labels),
            anyDefectPixel ? 100 * PixelMetrics.Auroc(maps, masks) : double.NaN,
            anyDefectPixel ? 100 * PixelMetrics.Aupro(maps, masks) : double.NaN);
    }
}
