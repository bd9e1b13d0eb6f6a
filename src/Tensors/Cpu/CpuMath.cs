using System.Runtime.CompilerServices;

namespace PromptAD.Tensors.Cpu;

/// <summary>Scalar activation math shared by the CPU ops. .NET has no erf, so we carry one.</summary>
internal static class CpuMath
{
    private const float InvSqrt2 = 0.70710678118654752f;
    private const float InvSqrt2Pi = 0.39894228040143268f;

    /// <summary>erf for float32: a Maclaurin series below 0.5 (relative error ~1e-8) and Abramowitz &amp; Stegun
    /// 7.1.26 above (absolute error ≤ 1.5e-7), which keeps GELU within a few ulp of its float32 value.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Erf(float x)
    {
        float ax = MathF.Abs(x);
        if (ax < 0.5f)
        {
            // Maclaurin series: accurate near zero where the A&S form loses relative precision.
            float x2 = x * x;
            return x * (1.1283791671f + x2 * (-0.3761263890f + x2 * (0.1128379167f + x2 * (-0.0268661706f + x2 * (0.0052239776f + x2 * -0.0008548327f)))));
        }
        float t = 1f / (1f + 0.3275911f * ax);
        float poly = t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
        float r = 1f - poly * MathF.Exp(-ax * ax);
        return x < 0 ? -r : r;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Gelu(float x) => 0.5f * x * (1f + Erf(x * InvSqrt2));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float GeluGrad(float x) => 0.5f * (1f + Erf(x * InvSqrt2)) + x * InvSqrt2Pi * MathF.Exp(-0.5f * x * x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float QuickGelu(float x) => x * Sigmoid(1.702f * x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float QuickGeluGrad(float x)
    {
        float s = Sigmoid(1.702f * x);
        return s + 1.702f * x * s * (1f - s);
    }
}
