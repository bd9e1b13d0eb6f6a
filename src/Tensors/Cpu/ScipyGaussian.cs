namespace PromptAD.Tensors.Cpu;

/// <summary>
/// <c>scipy.ndimage.gaussian_filter(map, sigma)</c> on a float32 map with SciPy's defaults: mode 'reflect'
/// (half-sample symmetric: d c b a | a b c d | d c b a) and truncate = 4, so the radius is int(4σ + 0.5) = 16 for σ = 4.
/// </summary>
/// <remarks>
/// Reproduces SciPy's arithmetic, not just its formula: the kernel is exp(−x²/2σ²) normalized in double; axis 0
/// (rows, i.e. the vertical pass) runs first and its result is rounded to float32, because SciPy writes each
/// pass into the float32 output array; each output is accumulated in double as
/// w₀·x₀ + Σⱼ wⱼ·(x₋ⱼ + x₊ⱼ), the order of SciPy's symmetric-kernel loop in ni_filters.c.
/// The CUDA kernel (kernels/scoring.cu) does the same arithmetic.
/// </remarks>
public static class ScipyGaussian
{
    /// <summary>One map: <paramref name="map"/> [height, width] into <paramref name="result"/> (same size).</summary>
    public static void Filter(ReadOnlySpan<float> map, Span<float> result, int width, int height, double[] weights)
    {
        var vertical = new float[map.Length];
        var line = new double[Math.Max(width, height)];

        // Axis 0: each column.
        for (int x = 0; x < width; x++)
        {
            for (int y = 0; y < height; y++) line[y] = map[y * width + x];
            for (int y = 0; y < height; y++) vertical[y * width + x] = (float)Correlate(line, height, y, weights);
        }

        // Axis 1: each row.
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++) line[x] = vertical[y * width + x];
            for (int x = 0; x < width; x++) result[y * width + x] = (float)Correlate(line, width, x, weights);
        }
    }

    /// <summary>SciPy's <c>_gaussian_kernel1d(sigma, 0, radius)</c> half-kernel: weights[j] for offsets 0..radius.</summary>
    public static double[] Kernel(double sigma, double truncate)
    {
        if (!(sigma > 0)) throw new ArgumentOutOfRangeException(nameof(sigma), sigma, "sigma must be positive.");
        int radius = (int)(truncate * sigma + 0.5);
        var full = new double[2 * radius + 1];
        double sum = 0;
        for (int i = -radius; i <= radius; i++) full[i + radius] = Math.Exp(-0.5 / (sigma * sigma) * i * i);
        foreach (double v in full) sum += v;
        var half = new double[radius + 1];
        for (int j = 0; j <= radius; j++) half[j] = full[radius + j] / sum;
        return half;
    }

    private static double Correlate(double[] line, int n, int i, double[] w)
    {
        double acc = line[i] * w[0];
        for (int j = 1; j < w.Length; j++) acc += (line[Reflect(i - j, n)] + line[Reflect(i + j, n)]) * w[j];
        return acc;
    }

    /// <summary>Half-sample symmetric extension, periodic with period 2n, so radii larger than the line still work.</summary>
    public static int Reflect(int i, int n)
    {
        int period = 2 * n;
        int m = i % period;
        if (m < 0) m += period;
        return m < n ? m : period - 1 - m;
    }
}
