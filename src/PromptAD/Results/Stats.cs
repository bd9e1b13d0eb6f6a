namespace PromptAD.Results;

/// <summary>Mean and standard deviation for the results table. NaN inputs (metrics not computed) are skipped.</summary>
public static class Stats
{
    public static double Mean(IEnumerable<double> values)
    {
        double sum = 0;
        int n = 0;
        foreach (double v in values)
        {
            if (!double.IsNaN(v))
            {
                sum += v;
                n++;
            }
        }

        return n == 0 ? double.NaN : sum / n;
    }

    /// <summary>
    /// Population standard deviation, sqrt(Σ(x−mean)²/n) — NumPy's default (ddof = 0), which is what
    /// <c>np.std</c> over the seeds gives; with 5 seeds it is √(4/5) ≈ 0.894× the sample (ddof = 1) value.
    /// One value gives 0.
    /// </summary>
    public static double PopulationStd(IEnumerable<double> values)
    {
        double[] xs = [.. values.Where(v => !double.IsNaN(v))];
        if (xs.Length == 0)
        {
            return double.NaN;
        }

        double mean = xs.Average();
        double ss = 0;
        foreach (double x in xs)
        {
            ss += (x - mean) * (x - mean);
        }

        return Math.Sqrt(ss / xs.Length);
    }
}
