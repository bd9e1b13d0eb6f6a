using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace PromptAD.Tensors.Cpu;

/// <summary>
/// Vectorized transcendental functions. .NET's Vector512.Exp is a slow software path (~8 ns/element here, slower
/// than scalar MathF.Exp), which made softmax and GELU the CPU encoder's hot spots; these are the classic
/// Cephes-style range reduction + minimax polynomial forms, accurate to a couple of float32 ulp.
/// </summary>
internal static unsafe class SimdMath
{
    private const float Log2E = 1.44269504088896341f;
    private const float Ln2Hi = 0.693359375f;
    private const float Ln2Lo = -2.12194440e-4f;
    private const float ExpHi = 88.3762626647949f;
    private const float ExpLo = -87.3365447505531f;

    /// <summary>e^x: x = n·ln2 + r with |r| ≤ ln2/2, e^r by a degree-6 polynomial, 2^n through the exponent bits.
    /// Inputs below −87.3 give ~1e-38 rather than a denormal (harmless where it is used: softmax, GELU).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x)
    {
        x = Vector512.Min(Vector512.Max(x, Vector512.Create(ExpLo)), Vector512.Create(ExpHi));
        var n = Vector512.Floor(Vector512.FusedMultiplyAdd(x, Vector512.Create(Log2E), Vector512.Create(0.5f)));
        var r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Hi), x);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Lo), r);
        var p = Vector512.Create(1.9875691500e-4f);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.3981999507e-3f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(8.3334519073e-3f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(4.1665795894e-2f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.6666665459e-1f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(5.0000001201e-1f));
        p = Vector512.FusedMultiplyAdd(p, r * r, r + Vector512<float>.One);
        var pow2n = (Vector512.ConvertToInt32(n) + Vector512.Create(127)) << 23;
        return p * pow2n.AsSingle();
    }

    /// <summary>erf by Abramowitz &amp; Stegun 7.1.26 (absolute error ≤ 1.5e-7), with the vector exp above.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Erf(Vector512<float> x)
    {
        var ax = Vector512.Abs(x);
        var t = Vector512<float>.One / Vector512.FusedMultiplyAdd(ax, Vector512.Create(0.3275911f), Vector512<float>.One);
        var p = Vector512.Create(1.061405429f);
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(-1.453152027f));
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(1.421413741f));
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(-0.284496736f));
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(0.254829592f));
        var r = Vector512<float>.One - p * t * Exp(-(ax * ax));
        return Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<float>.Zero), -r, r);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Gelu(Vector512<float> x) =>
        Vector512.Create(0.5f) * x * (Vector512<float>.One + Erf(x * Vector512.Create(0.70710678118654752f)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> GeluGrad(Vector512<float> x) =>
        Vector512.Create(0.5f) * (Vector512<float>.One + Erf(x * Vector512.Create(0.70710678118654752f)))
        + x * Vector512.Create(0.39894228040143268f) * Exp(Vector512.Create(-0.5f) * x * x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Sigmoid(Vector512<float> x) => Vector512<float>.One / (Vector512<float>.One + Exp(-x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> QuickGelu(Vector512<float> x) => x * Sigmoid(Vector512.Create(1.702f) * x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> QuickGeluGrad(Vector512<float> x)
    {
        var s = Sigmoid(Vector512.Create(1.702f) * x);
        return s + Vector512.Create(1.702f) * x * s * (Vector512<float>.One - s);
    }
}
