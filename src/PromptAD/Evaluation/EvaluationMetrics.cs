namespace PromptAD.Evaluation;

/// <summary>
/// The protocol's five metrics (SPEC §7) as fractions in [0, 1], the one record that holds them everywhere; they are
/// multiplied by 100 only where written or printed. NaN means "not computed" (pixel metrics of a test set without any
/// anomalous pixel).
/// </summary>
public sealed record EvaluationMetrics(double ImageAuroc, double ImageAupr, double ImageF1Max, double PixelAuroc, double PixelAupro)
{
    /// <summary>The metric's value as a fraction (NaN when not computed).</summary>
    public double this[ResultMetric metric] => metric switch
    {
        ResultMetric.ImageAuroc => ImageAuroc,
        ResultMetric.ImageAupr => ImageAupr,
        ResultMetric.ImageF1Max => ImageF1Max,
        ResultMetric.PixelAuroc => PixelAuroc,
        ResultMetric.PixelAupro => PixelAupro,
        _ => throw new ArgumentOutOfRangeException(nameof(metric)),
    };
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
