namespace PromptAD.Kernels;

/// <summary>
/// Host side of the reduced-precision formats: the CPU reference of convert.cu's rounding (the same integer
/// arithmetic) and the widening the emulated GPU uses to read BF16 buffers, plus TF32 rounding.
/// </summary>
public static class Bf16
{
    /// <summary>FP32 to BF16 bits, round to nearest even; NaN stays a (quiet) NaN of the same sign.</summary>
    public static ushort FromFloat(float value)
    {
        uint u = BitConverter.SingleToUInt32Bits(value);
        if ((u & 0x7fffffffu) > 0x7f800000u) return (ushort)((u >> 16) | 0x0040u);
        return (ushort)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
    }

    /// <summary>BF16 bits to FP32: exact (BF16 is the top half of an FP32).</summary>
    public static float ToFloat(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);

    /// <summary>
    /// FP32 rounded to TF32 (10 of the 23 mantissa bits kept), to nearest with ties away from zero as the PTX
    /// <c>cvt.rna.tf32.f32</c> does; the result is an FP32 whose low 13 bits are zero. Inf and NaN pass through.
    /// </summary>
    public static float RoundToTf32(float value)
    {
        uint u = BitConverter.SingleToUInt32Bits(value);
        if ((u & 0x7f800000u) == 0x7f800000u) return value;
        return BitConverter.UInt32BitsToSingle((u + 0x1000u) & 0xffffe000u);
    }
}
