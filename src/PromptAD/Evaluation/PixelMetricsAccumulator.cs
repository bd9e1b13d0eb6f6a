using PromptAD.Data;

namespace PromptAD.Evaluation;

/// <summary>
/// Pixel AUROC and AUPRO over a test set given one image at a time (<see cref="PixelMetrics"/> over all maps added).
/// </summary>
public sealed class PixelMetricsAccumulator
{
    private readonly List<float[]> _maps = [];
    private readonly List<BinaryMask?> _masks = [];
    private bool _anyDefectPixel;

    /// <param name="map">The image's anomaly map (row-major, the mask's size).</param>
    /// <param name="mask">Its ground truth at the map's size, or null for an all-normal image.</param>
    public void Add(float[] map, BinaryMask? mask)
    {
        ArgumentNullException.ThrowIfNull(map);
        _maps.Add(map);
        _masks.Add(mask);
        _anyDefectPixel |= mask is not null && mask.Any();
    }

    /// <summary>(AUROC, AUPRO) as fractions; both NaN when no image has an anomalous pixel.</summary>
    public (double Auroc, double Aupro) Compute() => _anyDefectPixel
        ? PixelMetrics.AurocAndAupro(_maps, _masks)
        : (double.NaN, double.NaN);
}
