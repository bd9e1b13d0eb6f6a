using PromptAD.Data;
using PromptAD.Scoring;

namespace PromptAD.Output;

/// <summary>
/// The metrics of one (category, shots, seed) run. Metric values are fractions in [0, 1] as the evaluator computes
/// them (writers report them ×100); NaN means "not computed" (e.g. pixel metrics of a dataset without masks).
/// </summary>
public sealed record RunMetrics(
    string Category,
    int Shots,
    int Seed,
    string Backbone,
    double ImageAuroc,
    double ImageAupr,
    double ImageF1Max,
    double PixelAuroc,
    double PixelAupro,
    double TrainSeconds,
    double TestSeconds);

/// <summary>One row of the per-image scores file.</summary>
public sealed record ImageResult(string ImagePath, string DefectType, bool IsAnomalous, float Score, float PromptScore, float VisionMax)
{
    public static ImageResult From(TestSample sample, ImageScore score)
    {
        ArgumentNullException.ThrowIfNull(sample);
        ArgumentNullException.ThrowIfNull(score);
        return new ImageResult(sample.ImagePath, sample.DefectType, sample.IsAnomalous, score.Score, score.PromptScore, score.VisionMax);
    }
}

/// <summary>The metrics a results table can show.</summary>
public enum ResultMetric
{
    ImageAuroc,
    ImageAupr,
    ImageF1Max,
    PixelAuroc,
    PixelAupro,
}

public static class ResultMetrics
{
    public static readonly IReadOnlyList<ResultMetric> All =
        [ResultMetric.ImageAuroc, ResultMetric.ImageAupr, ResultMetric.ImageF1Max, ResultMetric.PixelAuroc, ResultMetric.PixelAupro];

    /// <summary>The metric's value as a fraction (NaN when not computed).</summary>
    public static double Of(this RunMetrics run, ResultMetric metric) => metric switch
    {
        ResultMetric.ImageAuroc => run.ImageAuroc,
        ResultMetric.ImageAupr => run.ImageAupr,
        ResultMetric.ImageF1Max => run.ImageF1Max,
        ResultMetric.PixelAuroc => run.PixelAuroc,
        ResultMetric.PixelAupro => run.PixelAupro,
        _ => throw new ArgumentOutOfRangeException(nameof(metric)),
    };

    public static string Title(this ResultMetric metric) => metric switch
    {
        ResultMetric.ImageAuroc => "Image AUROC",
        ResultMetric.ImageAupr => "Image AUPR",
        ResultMetric.ImageF1Max => "Image F1-max",
        ResultMetric.PixelAuroc => "Pixel AUROC",
        ResultMetric.PixelAupro => "Pixel AUPRO",
        _ => throw new ArgumentOutOfRangeException(nameof(metric)),
    };

    /// <summary>snake_case name used as a CSV column / JSON key.</summary>
    public static string Key(this ResultMetric metric) => metric switch
    {
        ResultMetric.ImageAuroc => "image_auroc",
        ResultMetric.ImageAupr => "image_aupr",
        ResultMetric.ImageF1Max => "image_f1_max",
        ResultMetric.PixelAuroc => "pixel_auroc",
        ResultMetric.PixelAupro => "pixel_aupro",
        _ => throw new ArgumentOutOfRangeException(nameof(metric)),
    };
}
