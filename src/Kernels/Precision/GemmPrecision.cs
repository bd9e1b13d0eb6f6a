namespace PromptAD.Kernels;

/// <summary>
/// How the GPU backend's GEMMs treat their inputs. FP32 is the default and the reference (SPEC §1); the others are a
/// speed option on tensor cores, checked against FP32 with a stated tolerance. Every other op stays FP32 in all modes.
/// </summary>
public enum GemmPrecision
{
    /// <summary>Plain FP32 GEMMs (cuBLAS' default math mode).</summary>
    Fp32,

    /// <summary>A and B rounded to TF32 (10 mantissa bits) on tensor cores through cuBLAS' TF32 math mode; FP32 accumulation and output.</summary>
    Tf32,

    /// <summary>A and B converted to BF16 (7 mantissa bits, round to nearest even) by our kernel, FP32 accumulation and
    /// output (cublasGemmStridedBatchedEx, CUBLAS_COMPUTE_32F). Frozen weights are converted once and kept.</summary>
    Bf16,
}

/// <summary>Names of <see cref="GemmPrecision"/> as the CLI spells them.</summary>
public static class GemmPrecisions
{
    public static IReadOnlyList<string> Names { get; } = ["fp32", "tf32", "bf16"];

    public static string Name(this GemmPrecision precision) => precision switch
    {
        GemmPrecision.Tf32 => "tf32",
        GemmPrecision.Bf16 => "bf16",
        _ => "fp32",
    };

    public static GemmPrecision Parse(string name) => name switch
    {
        "fp32" => GemmPrecision.Fp32,
        "tf32" => GemmPrecision.Tf32,
        "bf16" => GemmPrecision.Bf16,
        _ => throw new ArgumentException($"GEMM precision: expected one of {string.Join(", ", Names)}, got '{name}'"),
    };

    /// <summary>
    /// The unit roundoff of the GEMM inputs: the largest relative change rounding makes to one operand (2^-24 for FP32,
    /// 2^-11 for TF32 rounded to nearest, 2^-8 for BF16 rounded to nearest even).
    /// </summary>
    public static double UnitRoundoff(this GemmPrecision precision) => precision switch
    {
        GemmPrecision.Tf32 => Math.Pow(2, -11),
        GemmPrecision.Bf16 => Math.Pow(2, -8),
        _ => Math.Pow(2, -24),
    };
}
