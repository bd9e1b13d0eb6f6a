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
            var acc = Vector512.Create(float.NegativeInfinity);
            for (; i <= n - 16; i += 16) acc = Vector512.Max(acc, Vector512.Load(a + i));
            for (int j = 0; j < 16; j++) m = MathF.Max(m, acc.GetElement(j));
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

    /// <summary>y = exp(x − max) in place-able form; returns the sum of y.</summary>
    public static float ExpShiftSum(float* x, float max, float* y, int n)
    {
        int i = 0;
        float s = 0;
        if (Wide && n >= 16)
        {
            var vm = Vector512.Create(max);
            var acc = Vector512<float>.Zero;
            for (; i <= n - 16; i += 16)
            {
                var e = Vector512.Exp(Vector512.Load(x + i) - vm);
                Vector512.Store(e, y + i);
                acc += e;
            }
            s = Vector512.Sum(acc);
        }
        for (; i < n; i++)
        {
            float e = MathF.Exp(x[i] - max);
            y[i] = e;
            s += e;
        }
        return s;
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
