using PromptAD.Calibration;

namespace PromptAD.Tests.Calibration;

/// <summary>The threshold rule against hand-computed order statistics: r = ⌈(n+1)(1−α)⌉, anomalous strictly above s(r).</summary>
public sealed class GoodScoreThresholdTests
{
    // Nine good scores, shuffled: sorted they are 0.1 … 0.9.
    private static readonly float[] Nine = [0.5f, 0.9f, 0.1f, 0.7f, 0.3f, 0.8f, 0.2f, 0.6f, 0.4f];

    [Fact]
    public void NineScores_TwentyPercent_IsAboveTheEighth()
    {
        // (9 + 1)(1 − 0.2) = 8 → s(8) = 0.8; promised rate (10 − 8)/10 = 0.2.
        var e = GoodScoreThreshold.Estimate(Nine, 0.2);
        Assert.Equal(8, e.Rank);
        Assert.Equal(9, e.Images);
        Assert.False(e.TooFew);
        Assert.Equal(0.2, e.ExpectedRate, 12);
        Assert.True(e.Threshold > 0.8f);
        Assert.Equal(0.8f, MathF.BitDecrement(e.Threshold)); // the next float above 0.8: 0.8 itself is good, anything above not
        // Observed on the calibration scores: exactly one of nine (0.9) is at or above the threshold.
        Assert.Equal(1, Nine.Count(s => s >= e.Threshold));
    }

    [Fact]
    public void NineScores_ElevenPercent_RoundsTheRankUp()
    {
        // 10 × 0.89 = 8.9 → r = 9 (the largest), promised rate 1/10 ≤ 0.11.
        var e = GoodScoreThreshold.Estimate(Nine, 0.11);
        Assert.Equal(9, e.Rank);
        Assert.False(e.TooFew);
        Assert.Equal(0.9f, MathF.BitDecrement(e.Threshold));
        Assert.Equal(0.1, e.ExpectedRate, 12);
    }

    [Fact]
    public void TooFewImages_TakeTheHighestScore_AndSaySo()
    {
        // 10 × 0.95 = 9.5 → r = 10 > 9: no order statistic promises 5 %; the highest score promises 1/10.
        var e = GoodScoreThreshold.Estimate(Nine, 0.05);
        Assert.True(e.TooFew);
        Assert.Equal(9, e.Rank);
        Assert.Equal(0.9f, MathF.BitDecrement(e.Threshold));
        Assert.Equal(0.1, e.ExpectedRate, 12);
        Assert.Equal(0.1, GoodScoreThreshold.SmallestRate(9), 12);
    }

    [Theory]
    [InlineData(99, 0.01, 99, false)]  // exactly enough: (100)(0.99) = 99, no floating-point round-up to 100
    [InlineData(98, 0.01, 99, true)]   // 99 × 0.99 = 98.01 → 99 > 98
    [InlineData(19, 0.05, 19, false)]
    [InlineData(1, 0.5, 1, false)]     // 2 × 0.5 = 1
    [InlineData(3, 0.5, 2, false)]     // 4 × 0.5 = 2
    [InlineData(4, 0.3, 4, false)]     // 5 × 0.7 = 3.5 → 4
    public void Rank_IsTheConservativeOrderStatistic(int n, double fpr, int rank, bool tooFew)
    {
        Assert.Equal(rank, GoodScoreThreshold.Rank(n, fpr));
        var scores = Enumerable.Range(1, n).Select(i => (float)i).Reverse().ToArray();
        var e = GoodScoreThreshold.Estimate(scores, fpr);
        Assert.Equal(tooFew, e.TooFew);
        Assert.Equal(Math.Min(rank, n), MathF.BitDecrement(e.Threshold)); // the scores are 1..n, so s(r) = r
    }

    [Theory]
    [InlineData(0.01, 99)]
    [InlineData(0.05, 19)]
    [InlineData(0.03, 33)] // 1/34 = 0.0294 ≤ 0.03 < 1/33
    [InlineData(0.5, 1)]
    public void ImagesNeeded_IsTheLeastNWhoseSmallestRateMeetsTheTarget(double fpr, int n)
    {
        Assert.Equal(n, GoodScoreThreshold.ImagesNeeded(fpr));
        Assert.True(GoodScoreThreshold.SmallestRate(n) <= fpr);
        Assert.True(GoodScoreThreshold.SmallestRate(n - 1) > fpr);
        Assert.False(GoodScoreThreshold.Estimate(new float[n], fpr).TooFew);
        if (n > 1) Assert.True(GoodScoreThreshold.Estimate(new float[n - 1], fpr).TooFew);
    }

    [Fact]
    public void Ties_AtTheOrderStatistic_AreAllGood()
    {
        float[] scores = [0.3f, 0.5f, 0.5f, 0.5f, 0.1f];
        var e = GoodScoreThreshold.Estimate(scores, 0.34); // 6 × 0.66 = 3.96 → r = 4 → s(4) = 0.5
        Assert.Equal(4, e.Rank);
        Assert.Equal(0, scores.Count(s => s >= e.Threshold));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(-0.1)]
    [InlineData(double.NaN)]
    [InlineData(1e-7)]
    public void RatesOutsideZeroOne_AreRefused(double fpr)
    {
        var e = Assert.Throws<ArgumentException>(() => GoodScoreThreshold.Estimate(Nine, fpr));
        Assert.Contains("false-alarm rate must be from 1e-6 up to (not including) 1", e.Message);
    }

    [Fact]
    public void NoScores_OrNonFiniteScores_AreRefused()
    {
        Assert.Throws<ArgumentException>(() => GoodScoreThreshold.Estimate([], 0.1));
        Assert.Throws<ArgumentException>(() => GoodScoreThreshold.Estimate([0.1f, float.NaN], 0.1));
    }

    /// <summary>
    /// The promise itself, by simulation with a seeded generator: over many calibrations on n uniform scores, the
    /// average chance that a new good part scores at or above the threshold is (n+1−r)/(n+1) — here 10/100 for α = 0.1,
    /// n = 99 (so r = 90). For uniform scores that chance is exactly 1 − s(r); its mean over 4000 draws has a standard
    /// error of about 0.0005, the bound below is ten of those.
    /// </summary>
    [Fact]
    public void Simulated_FalseAlarmRate_MatchesThePromise()
    {
        var rng = new Random(7);
        const int n = 99, trials = 4000;
        double sum = 0;
        for (int t = 0; t < trials; t++)
        {
            var scores = new float[n];
            for (int i = 0; i < n; i++) scores[i] = rng.NextSingle();
            sum += 1 - GoodScoreThreshold.Estimate(scores, 0.1).Threshold;
        }
        Assert.Equal(0.1, sum / trials, 0.005);
    }
}
