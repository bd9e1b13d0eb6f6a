namespace PromptAD.Bench;

/// <summary>Spearman's rank correlation: the Pearson correlation of the values' ranks, tied values sharing their
/// average rank (as scipy.stats.spearmanr).</summary>
internal static class RankCorrelation
{
    public static double Spearman(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        if (x.Length != y.Length) throw new ArgumentException($"rank correlation of {x.Length} and {y.Length} values");
        double[] rx = Ranks(x), ry = Ranks(y);
        double mean = (x.Length + 1) / 2.0; // the mean of ranks 1..n, ties or not
        double sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < rx.Length; i++)
        {
            double dx = rx[i] - mean, dy = ry[i] - mean;
            sxy += dx * dy;
            sxx += dx * dx;
            syy += dy * dy;
        }
        return sxx == 0 || syy == 0 ? double.NaN : sxy / Math.Sqrt(sxx * syy);
    }

    /// <summary>1-based ranks, ties averaged.</summary>
    private static double[] Ranks(ReadOnlySpan<float> values)
    {
        var keys = values.ToArray();
        var order = new int[keys.Length];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        Array.Sort(keys, order);
        var ranks = new double[keys.Length];
        for (int start = 0; start < keys.Length;)
        {
            int end = start + 1;
            while (end < keys.Length && keys[end] == keys[start]) end++;
            double rank = (start + 1 + end) / 2.0; // average of ranks start+1 .. end
            for (int i = start; i < end; i++) ranks[order[i]] = rank;
            start = end;
        }
        return ranks;
    }
}
