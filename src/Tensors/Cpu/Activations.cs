using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace PromptAD.Tensors.Cpu;

/// <summary>An elementwise activation: its value and derivative, vectorized and scalar (for CPUs without
/// AVX-512). Static abstract members let the generic loops inline them: no delegate call per element.</summary>
internal interface IActivation
{
    static abstract Vector512<float> Value(Vector512<float> x);
    static abstract Vector512<float> Derivative(Vector512<float> x);
    static abstract float Value(float x);
    static abstract float Derivative(float x);
}

internal readonly struct GeluActivation : IActivation
{
    public static Vector512<float> Value(Vector512<float> x) => SimdMath.Gelu(x);
    public static Vector512<float> Derivative(Vector512<float> x) => SimdMath.GeluGrad(x);
    public static float Value(float x) => CpuMath.Gelu(x);
    public static float Derivative(float x) => CpuMath.GeluGrad(x);
}

internal readonly struct QuickGeluActivation : IActivation
{
    public static Vector512<float> Value(Vector512<float> x) => SimdMath.QuickGelu(x);
    public static Vector512<float> Derivative(Vector512<float> x) => SimdMath.QuickGeluGrad(x);
    public static float Value(float x) => CpuMath.QuickGelu(x);
    public static float Derivative(float x) => CpuMath.QuickGeluGrad(x);
}

internal readonly struct ReluActivation : IActivation
{
    public static Vector512<float> Value(Vector512<float> x) => Vector512.Max(x, Vector512<float>.Zero);
    public static Vector512<float> Derivative(Vector512<float> x) =>
        Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<float>.Zero), Vector512<float>.One, Vector512<float>.Zero);
    public static float Value(float x) => x > 0 ? x : 0f;
    public static float Derivative(float x) => x > 0 ? 1f : 0f;
}

/// <summary>The loops over a range; the last partial vector goes through a padded buffer so every element sees the
/// same (vector) arithmetic.</summary>
internal static unsafe class ActivationLoops
{
    public static void Forward<T>(float* x, float* y, int n) where T : IActivation
    {
        if (!Vector512.IsHardwareAccelerated)
        {
            for (int i = 0; i < n; i++) y[i] = T.Value(x[i]);
            return;
        }
        int k = 0;
        for (; k <= n - 16; k += 16) Vector512.Store(T.Value(Vector512.Load(x + k)), y + k);
        if (k < n)
        {
            float* buffer = stackalloc float[16];
            new Span<float>(buffer, 16).Clear();
            new ReadOnlySpan<float>(x + k, n - k).CopyTo(new Span<float>(buffer, 16));
            Vector512.Store(T.Value(Vector512.Load(buffer)), buffer);
            new ReadOnlySpan<float>(buffer, n - k).CopyTo(new Span<float>(y + k, n - k));
        }
    }

    public static void Backward<T>(float* x, float* dy, float* dx, int n) where T : IActivation
    {
        if (!Vector512.IsHardwareAccelerated)
        {
            for (int i = 0; i < n; i++) dx[i] = dy[i] * T.Derivative(x[i]);
            return;
        }
        int k = 0;
        for (; k <= n - 16; k += 16) Vector512.Store(Vector512.Load(dy + k) * T.Derivative(Vector512.Load(x + k)), dx + k);
        if (k < n)
        {
            float* buffer = stackalloc float[16];
            new Span<float>(buffer, 16).Clear();
            new ReadOnlySpan<float>(x + k, n - k).CopyTo(new Span<float>(buffer, 16));
            var d = T.Derivative(Vector512.Load(buffer));
            Vector512.Store(d, buffer);
            for (int i = 0; i < n - k; i++) dx[k + i] = dy[k + i] * buffer[i];
        }
    }
}
