using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace PromptAD.Tensors.Cpu;

/// <summary>Vectorized loops over float rows (AVX-512 where the CPU has it, scalar otherwise).</summary>
internal static unsafe class Simd
{
    private static readonly bool Wide = Vector512.IsHardwareAccelerated;

    public static float Dot(float* a, float* b, int n)
    {
        int i = 0;
        float s = 0;
        if (Wide && n >= 16)
        {
            var acc0 = Vector512<float>.Zero;
            var acc1 = Vector512<float>.Zero;
            for (; i <= n - 32; i += 32)
            {
                acc0 = Vector512.FusedMultiplyAdd(Vector512.Load(a + i), Vector512.Load(b + i), acc0);
                acc1 = Vector512.FusedMultiplyAdd(Vector512.Load(a + i + 16), Vector512.Load(b + i + 16), acc1);
            }
            for (; i <= n - 16; i += 16)
                acc0 = Vector512.FusedMultiplyAdd(Vector512.Load(a + i), Vector512.Load(b + i), acc0);
            s = Vector512.Sum(acc0 + acc1);
        }
        for (; i < n; i++) s += a[i] * b[i];
        return s;
    }

    public static float Sum(float* a, int n)
    {
        int i = 0;
        float s = 0;
        if (Wide && n >= 16)
        {
            var acc = Vector512<float>.Zero;
            for (; i <= n - 16; i += 16) acc += Vector512.Load(a + i);
            s = Vector512.Sum(acc);
        }
        for (; i < n; i++) s += a[i];
        return s;
    }

    public static float SumSquares(float* a, int n) => Dot(a, a, n);

    public static float Max(float* a, int n)
    {
        int i = 0;
        float m = float.NegativeInfinity;
        if (Wide && n >= 16)
        {
            var acc = Vector512.Load(a);
            for (i = 16; i <= n - 16; i += 16) acc = Vector512.Max(acc, Vector512.Load(a + i));
            // Tree reduction: halves, not 16 scalar extractions (this runs once per softmax row).
            var h256 = Vector256.Max(acc.GetLower(), acc.GetUpper());
            var h128 = Vector128.Max(h256.GetLower(), h256.GetUpper());
            m = MathF.Max(MathF.Max(h128[0], h128[1]), MathF.Max(h128[2], h128[3]));
        }
        for (; i < n; i++) m = MathF.Max(m, a[i]);
        return m;
    }

    /// <summary>y = alpha·a + beta·b.</summary>
    public static void Axpby(float alpha, float* a, float beta, float* b, float* y, long n)
    {
        long i = 0;
        if (Wide)
        {
            var va = Vector512.Create(alpha);
            var vb = Vector512.Create(beta);
            for (; i <= n - 16; i += 16)
                Vector512.Store(va * Vector512.Load(a + i) + vb * Vector512.Load(b + i), y + i);
        }
        for (; i < n; i++) y[i] = alpha * a[i] + beta * b[i];
    }

    /// <summary>y = a + (b − a)·λ in that order (bilinear interpolation between two rows). In 256-bit registers, so the
    /// AVX2 build (NativeAOT's default target) vectorizes it too.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per output row: tier 0 would slow the first maps
    public static void Lerp(float* a, float* b, float lambda, float* y, int n)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var l = Vector256.Create(lambda);
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var va = Vector256.Load(a + i);
                (va + (Vector256.Load(b + i) - va) * l).Store(y + i);
            }
        }
        for (; i < n; i++) y[i] = a[i] + (b[i] - a[i]) * lambda;
    }

    /// <summary>y = r + (a + b) in that order (a linear layer's output, its bias, then the residual); y may alias any input.</summary>
    public static void AddSum(float* r, float* a, float* b, float* y, long n)
    {
        long i = 0;
        if (Wide)
            for (; i <= n - 16; i += 16)
                Vector512.Store(Vector512.Load(r + i) + (Vector512.Load(a + i) + Vector512.Load(b + i)), y + i);
        for (; i < n; i++) y[i] = r[i] + (a[i] + b[i]);
    }

    /// <summary>y = x·scale + shift, elementwise with per-column vectors (LayerNorm's affine step uses it).</summary>
    public static void ScaleShift(float* x, float mean, float rstd, float* gamma, float* beta, float* y, int n)
    {
        int i = 0;
        if (Wide)
        {
            var vm = Vector512.Create(mean);
            var vr = Vector512.Create(rstd);
            for (; i <= n - 16; i += 16)
            {
                var xhat = (Vector512.Load(x + i) - vm) * vr;
                Vector512.Store(Vector512.FusedMultiplyAdd(xhat, Vector512.Load(gamma + i), Vector512.Load(beta + i)), y + i);
            }
        }
        for (; i < n; i++) y[i] = (x[i] - mean) * rstd * gamma[i] + beta[i];
    }

    /// <summary>y = exp(x − max); returns the sum of y. The last partial vector goes through a padded buffer so
    /// every element gets the same vector exp (no slow scalar tail).</summary>
    public static float ExpShiftSum(float* x, float max, float* y, int n)
    {
        if (!Wide)
        {
            float total = 0;
            for (int j = 0; j < n; j++) total += y[j] = MathF.Exp(x[j] - max);
            return total;
        }
        int i = 0;
        var vm = Vector512.Create(max);
        var acc = Vector512<float>.Zero;
        for (; i <= n - 16; i += 16)
        {
            var e = SimdMath.Exp(Vector512.Load(x + i) - vm);
            Vector512.Store(e, y + i);
            acc += e;
        }
        if (i < n)
        {
            float* buffer = stackalloc float[16];
            for (int j = 0; j < 16; j++) buffer[j] = i + j < n ? x[i + j] : float.NegativeInfinity;
            var e = SimdMath.Exp(Vector512.Load(buffer) - vm);
            // Padding lanes hold exp(−inf − max), clamped to ~1e-38 by SimdMath.Exp: zero them before summing.
            e = Vector512.ConditionalSelect(Vector512.LessThan(Vector512.Create(i) + Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), Vector512.Create(n)).AsSingle(), e, Vector512<float>.Zero);
            Vector512.Store(e, buffer);
            for (int j = 0; i + j < n; j++) y[i + j] = buffer[j];
            acc += e;
        }
        return Vector512.Sum(acc);
    }

    public static void Scale(float* x, float s, float* y, int n)
    {
        int i = 0;
        if (Wide)
        {
            var vs = Vector512.Create(s);
            for (; i <= n - 16; i += 16) Vector512.Store(Vector512.Load(x + i) * vs, y + i);
        }
        for (; i < n; i++) y[i] = x[i] * s;
    }

    /// <summary>y += s·x.</summary>
    public static void AddScaled(float* x, float s, float* y, int n)
    {
        int i = 0;
        if (Wide)
        {
            var vs = Vector512.Create(s);
            for (; i <= n - 16; i += 16)
                Vector512.Store(Vector512.FusedMultiplyAdd(Vector512.Load(x + i), vs, Vector512.Load(y + i)), y + i);
        }
        for (; i < n; i++) y[i] += s * x[i];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Copy(float* src, float* dst, long n) =>
        Buffer.MemoryCopy(src, dst, n * sizeof(float), n * sizeof(float));
}
