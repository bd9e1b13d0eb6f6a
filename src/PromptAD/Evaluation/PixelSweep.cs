using System.Runtime.CompilerServices;

namespace PromptAD.Evaluation;

/// <summary>
/// What one pixel sweep yields: AUROC and AUPRO as fractions (NaN when no pixel is anomalous) and, when asked for,
/// the curves it visited (thinned for drawing): ROC as (FPR, TPR), PRO as (FPR, PRO) up to the AUPRO limit.
/// </summary>
public sealed record PixelSweep(double Auroc, double Aupro, IReadOnlyList<CurvePoint>? Roc, IReadOnlyList<CurvePoint>? Pro);

/// <summary>
/// The descending sweep over distinct pixel thresholds (see PixelMetrics.Auroc and Aupro for the definitions): fed each
/// distinct score's normal and anomalous pixel counts from the highest score down, the anomalous pixels' region weights
/// (1/area) added before their threshold is closed.
/// </summary>
internal sealed class PixelThresholdSweep(long positives, long negatives, List<double> regionWeights, double fprLimit, CurveRecorder? roc, CurveRecorder? pro)
{
    private long _twiceU, _normalsAbove, _anomalousAbove;
    private double _proSum, _area, _prevFpr, _prevPro;
    private bool _auproDone, _started;

    public double Auroc => _twiceU / (2.0 * positives * negatives);

    public double Aupro => _area / fprLimit;

    public PixelSweep Result => new(Auroc, Aupro, roc?.Points, pro?.Points);

    public void AddRegionPixel(int region) => _proSum += regionWeights[region];

    public void AddWeight(double weight) => _proSum += weight;

    /// <summary>Closes one distinct threshold t holding <paramref name="normals"/> normal and <paramref name="anomalous"/>
    /// anomalous pixels (their region weights already added).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // called per distinct pixel score: millions of times
    public void Threshold(long normals, long anomalous)
    {
        if (!_started)
        {
            _started = true;
            roc?.Add(0, 0);
            pro?.Add(0, 0);
        }

        // Each anomalous pixel at t beats the normals below t (×2) and ties with those at t (×1).
        long below = negatives - _normalsAbove - normals;
        _twiceU += anomalous * (2 * below + normals);
        _normalsAbove += normals;
        _anomalousAbove += anomalous;
        double fpr = _normalsAbove / (double)negatives;
        roc?.Add(fpr, _anomalousAbove / (double)positives);
        if (_auproDone) return;
        double proValue = _proSum / regionWeights.Count;
        if (fpr >= fprLimit)
        {
            double proAtLimit = fpr == _prevFpr ? proValue : _prevPro + (proValue - _prevPro) * (fprLimit - _prevFpr) / (fpr - _prevFpr);
            _area += (fprLimit - _prevFpr) * (_prevPro + proAtLimit) / 2;
            pro?.Add(fprLimit, proAtLimit);
            _auproDone = true;
            return;
        }

        _area += (fpr - _prevFpr) * (_prevPro + proValue) / 2;
        pro?.Add(fpr, proValue);
        _prevFpr = fpr;
        _prevPro = proValue;
    }
}
