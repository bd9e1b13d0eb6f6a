namespace PromptAD.Evaluation;

/// <summary>
/// Image-level detection metrics, as fractions in [0, 1] (callers report ×100). Label true = anomalous.
/// </summary>
/// <remarks>
/// Undefined cases throw <see cref="ArgumentException"/> rather than returning NaN, so a broken test split
/// cannot silently turn into a number in a results table: AUROC needs both classes; AUPR and F1-max need at
/// least one anomalous sample (with only anomalous samples they are 1, as in sklearn).
/// </remarks>
public static class ImageMetrics
{
    /// <summary>
    /// Area under the ROC curve, exact and tie-aware: the Mann–Whitney statistic with ties counted ½,
    /// which equals sklearn's <c>roc_auc_score</c>. Computed in integers (twice the area) and divided once.
    /// </summary>
    public static double Auroc(ReadOnlySpan<double> scores, ReadOnlySpan<bool> labels)
    {
        RankedCounts c = RankedCounts.From(scores, labels);
        RequireBothClasses(c.Positives, c.Negatives);
        return TrapezoidAuroc(c.TruePositives, c.FalsePositives, c.Positives, c.Negatives);
    }

    /// <summary>
    /// Average precision as sklearn's <c>average_precision_score</c>: Σ over distinct thresholds (descending)
    /// of (Rₙ − Rₙ₋₁)·Pₙ — a step sum, not the trapezoid (which would be optimistic).
    /// </summary>
    public static double AveragePrecision(ReadOnlySpan<double> scores, ReadOnlySpan<bool> labels)
    {
        RankedCounts c = RankedCounts.From(scores, labels);
        RequirePositives(c.Positives);
        double ap = 0;
        long previousTp = 0;
        foreach (var (_, tp, precision, _) in PrecisionRecall(c))
        {
            if (tp != previousTp)
            {
                ap += (double)(tp - previousTp) / c.Positives * precision;
                previousTp = tp;
            }
        }

        return ap;
    }

    /// <summary>
    /// Maximum over thresholds of F1 = 2PR/(P+R) on sklearn's <c>precision_recall_curve</c> points — what
    /// PromptAD's <c>calculate_max_f1</c> (and anomalib's F1Max) computes. Points with P+R = 0 count as F1 = 0.
    /// </summary>
    public static double F1Max(ReadOnlySpan<double> scores, ReadOnlySpan<bool> labels)
    {
        RankedCounts c = RankedCounts.From(scores, labels);
        RequirePositives(c.Positives);
        return BestF1(c).F1;
    }

    /// <summary>
    /// The ROC and precision–recall curves and the F1-optimal threshold, from the same sweep as <see cref="Auroc"/>,
    /// <see cref="AveragePrecision"/> and <see cref="F1Max"/>; needs both classes.
    /// </summary>
    public static ImageCurves Curves(ReadOnlySpan<double> scores, ReadOnlySpan<bool> labels, double step = 1.0 / 1000)
    {
        RankedCounts c = RankedCounts.From(scores, labels);
        RequireBothClasses(c.Positives, c.Negatives);
        var roc = new CurveRecorder(step);
        roc.Add(0, 0);
        for (int i = 0; i < c.TruePositives.Length; i++) roc.Add((double)c.FalsePositives[i] / c.Negatives, (double)c.TruePositives[i] / c.Positives);
        var pr = new CurveRecorder(step);
        foreach (var (_, _, precision, recall) in PrecisionRecall(c)) pr.Add(recall, precision);
        return new ImageCurves(roc.Points, pr.Points, BestF1(c).Threshold);
    }

    /// <summary>sklearn's precision–recall points, highest threshold first: every distinct threshold with a true positive.</summary>
    private static IEnumerable<(int Index, long Tp, double Precision, double Recall)> PrecisionRecall(RankedCounts c)
    {
        for (int i = 0; i < c.TruePositives.Length; i++)
        {
            long tp = c.TruePositives[i];
            if (tp == 0) continue;
            yield return (i, tp, (double)tp / (tp + c.FalsePositives[i]), (double)tp / c.Positives);
        }
    }

    /// <summary>The largest F1 over the PR points and the threshold of its first (highest) occurrence.</summary>
    private static (double F1, double Threshold) BestF1(RankedCounts c)
    {
        double best = 0, threshold = c.Thresholds[0];
        foreach (var (i, _, precision, recall) in PrecisionRecall(c))
        {
            double f1 = 2 * precision * recall / (precision + recall);
            if (f1 > best)
            {
                best = f1;
                threshold = c.Thresholds[i];
            }
        }

        return (best, threshold);
    }

    /// <summary>Trapezoid area under the ROC points (0,0) → … → (1,1), exactly: 2·area·P·N is an integer.</summary>
    internal static double TrapezoidAuroc(long[] tps, long[] fps, long positives, long negatives)
    {
        // Each step adds Δfp·(tp + tp_prev); the sum is ≤ 2·P·N, far inside long for any image count.
        long twiceArea = 0;
        long prevTp = 0, prevFp = 0;
        for (int i = 0; i < tps.Length; i++)
        {
            twiceArea += (fps[i] - prevFp) * (tps[i] + prevTp);
            prevTp = tps[i];
            prevFp = fps[i];
        }

        return twiceArea / (2.0 * positives * negatives);
    }

    internal static void RequireBothClasses(long positives, long negatives)
    {
        if (positives == 0 || negatives == 0)
        {
            throw new ArgumentException(
                $"AUROC is undefined with only one class present ({positives} anomalous, {negatives} normal samples).");
        }
    }

    internal static void RequirePositives(long positives)
    {
        if (positives == 0)
        {
            throw new ArgumentException("Precision/recall metrics are undefined without any anomalous sample.");
        }
    }
}
