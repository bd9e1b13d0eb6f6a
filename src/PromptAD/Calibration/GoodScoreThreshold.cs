namespace PromptAD.Calibration;

/// <summary>
/// A decision threshold from the scores of good parts only, for a target false-alarm rate α (SPEC's image score; an
/// image is called anomalous when its score is at or above the threshold).
/// </summary>
/// <remarks>
/// The rule is the conservative empirical (1 − α) quantile (the split-conformal one): with the n good scores sorted
/// s(1) ≤ … ≤ s(n), take rank r = ⌈(n + 1)(1 − α)⌉ and call anomalous what scores strictly above s(r) (the threshold is
/// the next float up). If good parts' scores are exchangeable (same process, no ties), a new good part scores above
/// s(r) with probability (n + 1 − r)/(n + 1) ≤ α — averaged over the calibration images, no distribution assumed.
/// The smallest rate n images can promise is 1/(n + 1) (r = n, the highest good score); when α is below that the
/// threshold is the highest score and <see cref="ThresholdEstimate.TooFew"/> is set: the promise is 1/(n + 1), not α.
/// </remarks>
public static class GoodScoreThreshold
{
    public static ThresholdEstimate Estimate(IReadOnlyList<float> goodScores, double fpr)
    {
        ArgumentNullException.ThrowIfNull(goodScores);
        CheckRate(fpr);
        int n = goodScores.Count;
        if (n == 0) throw new ArgumentException("no good-part scores to calibrate on");
        var sorted = goodScores.ToArray();
        foreach (float s in sorted)
            if (!float.IsFinite(s)) throw new ArgumentException($"a good-part score is {s}; scores must be finite");
        Array.Sort(sorted);
        int rank = Rank(n, fpr);
        bool tooFew = rank > n;
        if (tooFew) rank = n;
        return new ThresholdEstimate(MathF.BitIncrement(sorted[rank - 1]), fpr, n, rank, (double)(n + 1 - rank) / (n + 1), tooFew);
    }

    /// <summary>r = ⌈(n + 1)(1 − α)⌉ in decimal arithmetic, so that e.g. n = 99, α = 0.01 gives exactly 99.</summary>
    public static int Rank(int n, double fpr)
    {
        CheckRate(fpr);
        decimal r = Math.Ceiling((n + 1) * (1m - (decimal)fpr));
        return (int)Math.Max(1m, r);
    }

    /// <summary>The smallest false-alarm rate <paramref name="n"/> good images can promise: 1/(n + 1).</summary>
    public static double SmallestRate(int n) => 1.0 / (n + 1);

    /// <summary>How many good images the rate <paramref name="fpr"/> needs: the least n with 1/(n + 1) ≤ α.</summary>
    public static int ImagesNeeded(double fpr)
    {
        CheckRate(fpr);
        return (int)Math.Ceiling(1m / (decimal)fpr) - 1;
    }

    /// <summary>
    /// The smallest target rate: promising one false alarm in a million already needs a million good images; below it
    /// the arithmetic of <see cref="Rank"/> and <see cref="ImagesNeeded"/> would overflow or divide by zero.
    /// </summary>
    public const double MinRate = 1e-6;

    /// <summary>A usage error naming --fpr unless <paramref name="fpr"/> lies in [<see cref="MinRate"/>, 1).</summary>
    public static void CheckRate(double fpr)
    {
        if (!(fpr >= MinRate && fpr < 1))
            throw new ArgumentException($"the target false-alarm rate must be from {MinRate.ToString("0e-0", System.Globalization.CultureInfo.InvariantCulture)} up to (not including) 1, got {fpr.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
    }
}

/// <param name="Threshold">Anomalous when score ≥ this (one float above the rank-<paramref name="Rank"/> good score).</param>
/// <param name="ExpectedRate">(n + 1 − r)/(n + 1): the false-alarm rate the rule promises (≤ the target unless too few).</param>
public sealed record ThresholdEstimate(float Threshold, double TargetFpr, int Images, int Rank, double ExpectedRate, bool TooFew);
