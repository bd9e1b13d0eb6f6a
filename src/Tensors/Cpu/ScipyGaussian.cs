using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

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
    /// j = 1…radius, a separate multiply and add each), so the result is bit-identical to it; only the data layout
    /// differs: the vertical pass runs along whole rows (the reflected source rows picked once per output row), the
    /// horizontal pass along a row padded with its reflection, several outputs per SIMD register, each output's sum
    /// kept in a register over all taps, no index arithmetic in the inner loop.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void Filter(ReadOnlySpan<float> map, Span<float> result, int width, int height, double[] weights)
    {
        int radius = weights.Length - 1;
        var scratch = t_scratch ??= new Scratch();
        var source = scratch.Doubles(0, map.Length);
        var vertical = scratch.Doubles(1, map.Length); // float32-rounded values, as SciPy's intermediate array, held as doubles
        var padded = scratch.Doubles(2, width + 2 * radius);
        var acc = scratch.Doubles(3, Math.Max(width, 1));
        var minus = new int[radius + 1];
        var plus = new int[radius + 1];
        fixed (float* input = map, output = result)
        fixed (double* src = source, mid = vertical, pad = padded, sums = acc, w = weights)
        fixed (int* lo = minus, hi = plus)
        {
            Widen(input, src, map.Length);

            // Axis 0: output row y = w₀·row(y) + Σⱼ (row(y−j) + row(y+j))·wⱼ, rows reflected at the edges.
            for (int y = 0; y < height; y++)
            {
                for (int j = 0; j <= radius; j++)
                {
                    lo[j] = Reflect(y - j, height) * width;
                    hi[j] = Reflect(y + j, height) * width;
                }
                double* row = mid + (long)y * width;
                Taps(src, lo, hi, w, radius, width, row);
                RoundToSingle(row, width);
            }

            // Axis 1: each row padded with its reflection, then the same sum along it.
            for (int j = 0; j <= radius; j++)
            {
                lo[j] = radius - j;
                hi[j] = radius + j;
            }
            var column = new int[width + 2 * radius]; // the padded row's source columns
            for (int k = 0; k < column.Length; k++) column[k] = Reflect(k - radius, width);
            for (int y = 0; y < height; y++)
            {
                double* row = mid + (long)y * width;
                for (int k = 0; k < radius; k++) pad[k] = row[column[k]];
                Buffer.MemoryCopy(row, pad + radius, (long)width * sizeof(double), (long)width * sizeof(double));
                for (int k = radius + width; k < column.Length; k++) pad[k] = row[column[k]];
                Taps(pad, lo, hi, w, radius, width, sums);
                Narrow(sums, output + (long)y * width, width);
            }
        }
    }

    /// <summary>to[i] = from[i] as a double (exact).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Widen(float* from, double* to, int n)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var v = Vector256.Load(from + i);
                Vector256.WidenLower(v).Store(to + i);
                Vector256.WidenUpper(v).Store(to + i + Vector256<double>.Count);
            }
        }
        for (; i < n; i++) to[i] = from[i];
    }

    /// <summary>data[i] rounded to the nearest float32 (SciPy's float32 intermediate array), kept as a double.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void RoundToSingle(double* data, int n)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var f = Vector256.Narrow(Vector256.Load(data + i), Vector256.Load(data + i + Vector256<double>.Count));
                Vector256.WidenLower(f).Store(data + i);
                Vector256.WidenUpper(f).Store(data + i + Vector256<double>.Count);
            }
        }
        for (; i < n; i++) data[i] = (float)data[i];
    }

    /// <summary>to[i] = from[i] rounded to the nearest float32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Narrow(double* from, float* to, int n)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
                Vector256.Narrow(Vector256.Load(from + i), Vector256.Load(from + i + Vector256<double>.Count)).Store(to + i);
        }
        for (; i < n; i++) to[i] = (float)from[i];
    }

    /// <summary>Per-thread working arrays, grown as needed and reused by every map the thread filters (a map's are
    /// megabytes: allocating them per map costs more than the filter).</summary>
    [ThreadStatic] private static Scratch? t_scratch;

    private sealed class Scratch
    {
        private readonly double[][] _arrays = [[], [], [], []];

        public double[] Doubles(int slot, int length)
        {
            if (_arrays[slot].Length < length) _arrays[slot] = new double[length];
            return _arrays[slot];
        }
    }

    /// <summary>
    /// sums[x] = data[lo₀ + x]·w₀ + Σⱼ (data[loⱼ + x] + data[hiⱼ + x])·wⱼ for x &lt; n (lo₀ is the centre), the taps in
    /// order j = 1…radius: four registers of outputs at a time (each output's sum is a chain of dependent adds, so one
    /// register at a time waits on the add latency at every tap), then one register, then one output at a time.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // SIMD at tier 0 is many times slower, and the first maps wait on it
    private static unsafe void Taps(double* data, int* lo, int* hi, double* w, int radius, int n, double* sums)
    {
        int x = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            const int L = 8; // Vector512<double>.Count
            for (; x <= n - 4 * L; x += 4 * L)
            {
                double* c = data + lo[0] + x;
                var s0 = Vector512.Load(c) * w[0];
                var s1 = Vector512.Load(c + L) * w[0];
                var s2 = Vector512.Load(c + 2 * L) * w[0];
                var s3 = Vector512.Load(c + 3 * L) * w[0];
                for (int j = 1; j <= radius; j++)
                {
                    double* a = data + lo[j] + x, b = data + hi[j] + x;
                    double wj = w[j];
                    s0 += (Vector512.Load(a) + Vector512.Load(b)) * wj;
                    s1 += (Vector512.Load(a + L) + Vector512.Load(b + L)) * wj;
                    s2 += (Vector512.Load(a + 2 * L) + Vector512.Load(b + 2 * L)) * wj;
                    s3 += (Vector512.Load(a + 3 * L) + Vector512.Load(b + 3 * L)) * wj;
                }
                s0.Store(sums + x);
                s1.Store(sums + x + L);
                s2.Store(sums + x + 2 * L);
                s3.Store(sums + x + 3 * L);
            }

            for (; x <= n - L; x += L)
            {
                var s = Vector512.Load(data + lo[0] + x) * w[0];
                for (int j = 1; j <= radius; j++) s += (Vector512.Load(data + lo[j] + x) + Vector512.Load(data + hi[j] + x)) * w[j];
                s.Store(sums + x);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            const int L = 4; // Vector256<double>.Count
            for (; x <= n - 4 * L; x += 4 * L)
            {
                double* c = data + lo[0] + x;
                var s0 = Vector256.Load(c) * w[0];
                var s1 = Vector256.Load(c + L) * w[0];
                var s2 = Vector256.Load(c + 2 * L) * w[0];
                var s3 = Vector256.Load(c + 3 * L) * w[0];
                for (int j = 1; j <= radius; j++)
                {
                    double* a = data + lo[j] + x, b = data + hi[j] + x;
                    double wj = w[j];
                    s0 += (Vector256.Load(a) + Vector256.Load(b)) * wj;
                    s1 += (Vector256.Load(a + L) + Vector256.Load(b + L)) * wj;
                    s2 += (Vector256.Load(a + 2 * L) + Vector256.Load(b + 2 * L)) * wj;
                    s3 += (Vector256.Load(a + 3 * L) + Vector256.Load(b + 3 * L)) * wj;
                }
                s0.Store(sums + x);
                s1.Store(sums + x + L);
                s2.Store(sums + x + 2 * L);
                s3.Store(sums + x + 3 * L);
            }

            for (; x <= n - L; x += L)
            {
                var s = Vector256.Load(data + lo[0] + x) * w[0];
                for (int j = 1; j <= radius; j++) s += (Vector256.Load(data + lo[j] + x) + Vector256.Load(data + hi[j] + x)) * w[j];
                s.Store(sums + x);
            }
        }
        for (; x < n; x++)
        {
            double s = data[lo[0] + x] * w[0];
            for (int j = 1; j <= radius; j++) s += (data[lo[j] + x] + data[hi[j] + x]) * w[j];
            sums[x] = s;
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

        /// <summary>Half-sample symmetric extension, periodic with period 2n, so radii larger than the line still work.</summary>
    public static int Reflect(int i, int n)
    {
        int period = 2 * n;
        int m = i % period;
        if (m < 0) m += period;
        return m < n ? m : period - 1 - m;
    }
}
