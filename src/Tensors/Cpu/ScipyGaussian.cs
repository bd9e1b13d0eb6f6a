using System.Numerics;

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
    /// <remarks>
    /// Each output is the same sequence of double operations as SciPy's per-line loop (w₀·x₀, then + (x₋ⱼ + x₊ⱼ)·wⱼ for
    /// j = 1…radius), so the result is bit-identical to it; only the data layout differs: the vertical pass runs over
    /// whole rows (the reflected source rows picked once per output row), the horizontal pass over a row padded with its
    /// reflection, both several outputs per SIMD instruction, with no index arithmetic in the inner loops.
    /// </remarks>
    public static void Filter(ReadOnlySpan<float> map, Span<float> result, int width, int height, double[] weights)
    {
        int radius = weights.Length - 1;
        var source = new double[map.Length];
        for (int i = 0; i < map.Length; i++) source[i] = map[i];
        var vertical = new double[map.Length]; // float32-rounded values, as SciPy's intermediate array, held as doubles
        var acc = new double[Math.Max(width, 1)];

        // Axis 0: output row y = w₀·row(y) + Σⱼ (row(y−j) + row(y+j))·wⱼ, rows reflected at the edges.
        for (int y = 0; y < height; y++)
        {
            Scale(source.AsSpan(y * width, width), weights[0], acc);
            for (int j = 1; j <= radius; j++)
                AddPair(source.AsSpan(Reflect(y - j, height) * width, width), source.AsSpan(Reflect(y + j, height) * width, width), weights[j], acc);
            var row = vertical.AsSpan(y * width, width);
            for (int x = 0; x < width; x++) row[x] = (float)acc[x];
        }

        // Axis 1: each row padded with its reflection, then the same sum along it.
        var padded = new double[width + 2 * radius];
        for (int y = 0; y < height; y++)
        {
            var row = vertical.AsSpan(y * width, width);
            for (int k = 0; k < padded.Length; k++) padded[k] = row[Reflect(k - radius, width)];
            Scale(padded.AsSpan(radius, width), weights[0], acc);
            for (int j = 1; j <= radius; j++) AddPair(padded.AsSpan(radius - j, width), padded.AsSpan(radius + j, width), weights[j], acc);
            var output = result.Slice(y * width, width);
            for (int x = 0; x < width; x++) output[x] = (float)acc[x];
        }
    }

    /// <summary>acc = a·w.</summary>
    private static void Scale(ReadOnlySpan<double> a, double w, Span<double> acc)
    {
        int n = a.Length, x = 0;
        if (Vector.IsHardwareAccelerated)
            for (int step = Vector<double>.Count; x <= n - step; x += step)
                (new Vector<double>(a.Slice(x)) * w).CopyTo(acc.Slice(x));
        for (; x < n; x++) acc[x] = a[x] * w;
    }

    /// <summary>acc += (a + b)·w, element by element (a separate multiply and add, as the scalar loop).</summary>
    private static void AddPair(ReadOnlySpan<double> a, ReadOnlySpan<double> b, double w, Span<double> acc)
    {
        int n = a.Length, x = 0;
        if (Vector.IsHardwareAccelerated)
            for (int step = Vector<double>.Count; x <= n - step; x += step)
                (new Vector<double>(acc.Slice(x)) + (new Vector<double>(a.Slice(x)) + new Vector<double>(b.Slice(x))) * w).CopyTo(acc.Slice(x));
        for (; x < n; x++) acc[x] += (a[x] + b[x]) * w;
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

        /// <summary>Half-sample symmetric extension, periodic with period 2n, so radii larger than the line still work.</summary>
    public static int Reflect(int i, int n)
    {
        int period = 2 * n;
        int m = i % period;
        if (m < 0) m += period;
        return m < n ? m : period - 1 - m;
    }
}
