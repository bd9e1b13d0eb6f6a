namespace PromptAD.Evaluation;

/// <summary>
/// Cumulative true/false positive counts at every distinct score threshold, highest threshold first —
/// the points of sklearn's <c>_binary_clf_curve</c> (a sample is predicted anomalous when its score is ≥ the threshold).
/// </summary>
internal sealed class RankedCounts
{
    private RankedCounts(double[] thresholds, long[] truePositives, long[] falsePositives, long positives, long negatives)
    {
        Thresholds = thresholds;
        TruePositives = truePositives;
        FalsePositives = falsePositives;
        Positives = positives;
        Negatives = negatives;
    }

    /// <summary>The i-th distinct score, descending.</summary>
    public double[] Thresholds { get; }

    /// <summary>TP count at the i-th distinct threshold (descending); the last entry equals <see cref="Positives"/>.</summary>
    public long[] TruePositives { get; }

    public long[] FalsePositives { get; }

    public long Positives { get; }

    public long Negatives { get; }

    public static RankedCounts From(ReadOnlySpan<double> scores, ReadOnlySpan<bool> labels)
    {
        if (scores.Length != labels.Length)
        {
            throw new ArgumentException($"Got {scores.Length} scores but {labels.Length} labels.");
        }

        if (scores.IsEmpty)
        {
            throw new ArgumentException("No samples to evaluate.");
        }

        var keys = scores.ToArray();
        var flags = labels.ToArray();
        foreach (double s in keys)
        {
            if (double.IsNaN(s))
            {
                throw new ArgumentException("Scores contain NaN; metrics need every score to be a number.");
            }
        }

        Array.Sort(keys, flags);
        var thresholds = new List<double>();
        var tps = new List<long>();
        var fps = new List<long>();
        long tp = 0, fp = 0;
        for (int i = keys.Length - 1; i >= 0; i--)
        {
            if (flags[i])
            {
                tp++;
            }
            else
            {
                fp++;
            }

            // Close a threshold group when the next (lower) score differs; == treats −0 and +0 as one value, like numpy.
            if (i == 0 || keys[i - 1] != keys[i])
            {
                thresholds.Add(keys[i]);
                tps.Add(tp);
                fps.Add(fp);
            }
        }

        return new RankedCounts([.. thresholds], [.. tps], [.. fps], tp, fp);
    }
}
