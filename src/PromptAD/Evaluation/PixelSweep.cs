using System.Runtime.CompilerServices;

namespace PromptAD.Evaluation;

/// <summary>
/// What one pixel sweep yields: AUROC and AUPRO as fractions (NaN when no pixel is anomalous) and, when asked for,
/// the curves it visited (thinned for drawing): ROC as (FPR, TPR), PRO as (FPR, PRO) up to the AUPRO limit.
/// </summary>
public sealed record PixelSweep(double Auroc, double Aupro, IReadOnlyList<CurvePoint>? Roc, IReadOnlyList<CurvePoint>? Pro);

/// <summary>
/// The descending sweep over distinct pixel thresholds (see PixelMetrics.Auroc and Aupro for the definitions): fed one
/// key range after another from the highest down, it closes each distinct score's threshold with its normal and
/// anomalous pixel counts, the anomalous pixels' region weights (1/area) added before.
/// </summary>
internal sealed class PixelThresholdSweep(long positives, long negatives, List<double> regionWeights, double fprLimit, CurveRecorder? roc, CurveRecorder? pro)
{
    private long _twiceU, _normalsAbove, _anomalousAbove;
    private double _proSum, _area, _prevFpr, _prevPro;
    private bool _auproDone, _started;

    public double Auroc => _twiceU / (2.0 * positives * negatives);

    public double Aupro => _area / fprLimit;

    public PixelSweep Result => new(Auroc, Aupro, roc?.Points, pro?.Points);

    /// <summary>
    /// One range's keys, each run sorted ascending: the normal pixels' keys and the anomalous pixels' keys with their
    /// regions (a tie in the order the pixels were added). The two runs are merged from the top; a tie's anomalous
    /// pixels are visited last-added first, each adding its region's weight.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // a hot loop the first evaluation of a process runs too
    public void SweepSorted(ReadOnlySpan<uint> normalKeys, ReadOnlySpan<uint> anomalousKeys, ReadOnlySpan<int> regions)
    {
        int i = normalKeys.Length - 1, j = anomalousKeys.Length - 1;
        while (i >= 0 || j >= 0)
        {
            uint t = i < 0 ? anomalousKeys[j] : j < 0 ? normalKeys[i] : Math.Max(normalKeys[i], anomalousKeys[j]);
            long n = 0, a = 0;
            for (; i >= 0 && normalKeys[i] == t; i--) n++;
            for (; j >= 0 && anomalousKeys[j] == t; j--)
            {
                a++;
                _proSum += regionWeights[regions[j]];
            }

            Threshold(n, a);
        }
    }

    /// <summary>Per-key totals of one 16-bit bucket addressed by the keys' low 16 bits (normal and anomalous pixels,
    /// and the sum of the anomalous ones' region weights), visited from the top.</summary>
    public void SweepAddressed(long[] normals, long[] anomalous, double[] weights)
    {
        for (int low = normals.Length - 1; low >= 0; low--)
        {
            if (normals[low] + anomalous[low] == 0) continue;
            _proSum += weights[low];
            Threshold(normals[low], anomalous[low]);
        }
    }

    /// <summary>Closes one distinct threshold t holding <paramref name="normals"/> normal and <paramref name="anomalous"/>
    /// anomalous pixels (their region weights already added).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // called per distinct pixel score: millions of times
    private void Threshold(long normals, long anomalous)
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
