using PromptAD.Kernels;
using PromptAD.Tests.Ops;

namespace PromptAD.Tests.Kernels;

/// <summary>
/// convert.cu's FP32 → BF16 rounding (run by the emulation: the kernel source itself) and the host copy of it
/// (<see cref="Bf16.FromFloat"/>), against hand-worked cases and against a reference written here with different
/// arithmetic: the two BF16 neighbours of a value compared in double precision.
/// </summary>
public sealed unsafe class Bf16ConversionTests
{
    /// <summary>Hand-worked cases: input bits → BF16 bits (round to nearest, ties to even).</summary>
    public static TheoryData<uint, ushort> HandCases() => new()
    {
        { 0x3F800000, 0x3F80 }, // 1.0 exactly
        { 0x3F808000, 0x3F80 }, // 1 + half a BF16 step: tie, the even neighbour (down)
        { 0x3F818000, 0x3F82 }, // 1 + 3/2 steps: tie, the even neighbour (up)
        { 0x3F808001, 0x3F81 }, // just past the tie: up
        { 0x3F807FFF, 0x3F80 }, // just below the tie: down
        { 0xBF818000, 0xBF82 }, // negative tie rounds the magnitude the same way
        { 0x3FFF8000, 0x4000 }, // carry through the mantissa into the exponent (1.99.. → 2)
        { 0x7F7F7FFF, 0x7F7F }, // largest finite stays finite
        { 0x7F7F8000, 0x7F80 }, // half a step past the largest finite: tie to even = +inf
        { 0x7F7FFFFF, 0x7F80 }, // FP32 max → +inf
        { 0xFF7FFFFF, 0xFF80 }, // -FP32 max → -inf
        { 0x7F800000, 0x7F80 }, // +inf
        { 0xFF800000, 0xFF80 }, // -inf
        { 0x00000000, 0x0000 }, // +0
        { 0x80000000, 0x8000 }, // -0
        { 0x00000001, 0x0000 }, // smallest subnormal: rounds to 0 (no flush needed, it is below half a step)
        { 0x00008000, 0x0000 }, // subnormal tie: even (0)
        { 0x00018000, 0x0002 }, // subnormal tie: even (up)
        { 0x00010000, 0x0001 }, // smallest BF16 subnormal, exact
        { 0x807FFFFF, 0x8080 }, // largest negative subnormal rounds up to the smallest normal
        { 0x7FC00000, 0x7FC0 }, // quiet NaN
        { 0xFFC00001, 0xFFC0 }, // negative NaN keeps its sign
        { 0x7F800001, 0x7FC0 }, // NaN whose payload is only in the dropped bits stays NaN (quiet bit set), not inf
        { 0x7FBFFFFF, 0x7FFF }, // signalling NaN: top payload kept, quiet bit set, no carry into the sign
    };

    [Theory]
    [MemberData(nameof(HandCases))]
    public void HostReferenceRoundsTheHandWorkedCases(uint input, ushort expected)
    {
        Assert.Equal(expected, Bf16.FromFloat(BitConverter.UInt32BitsToSingle(input)));
        Assert.Equal(expected, IndependentOrNaN(input));
    }

    [Fact]
    public void KernelRoundsTheHandWorkedCasesAndRandomPatterns()
    {
        var inputs = HandCases().Select(row => (uint)row.Data.Item1).ToList();
        var rng = new Random(20240601);
        for (int i = 0; i < 20000; i++) inputs.Add((uint)rng.NextInt64(0, 1L << 32));
        // Every tie and near-tie of a few exponents, subnormals included.
        foreach (uint exponent in new uint[] { 0x00, 0x01, 0x7F, 0xFE })
            foreach (uint low in new uint[] { 0x7FFF, 0x8000, 0x8001, 0x18000, 0xFFFF })
                inputs.Add((exponent << 23) | low);

        ushort[] device = RunKernel(inputs.Select(BitConverter.UInt32BitsToSingle).ToArray());
        for (int i = 0; i < inputs.Count; i++)
        {
            ushort expected = IndependentOrNaN(inputs[i]);
            Assert.True(expected == device[i], $"f32_to_bf16(0x{inputs[i]:X8}) = 0x{device[i]:X4}, expected 0x{expected:X4}");
            Assert.Equal(expected, Bf16.FromFloat(BitConverter.UInt32BitsToSingle(inputs[i])));
        }
    }

    [Fact]
    public void KernelConvertsTwoRangesInOneLaunch()
    {
        float[] x0 = [1f, 2.5f, -3.0078125f], x1 = [0.1f, 1e-40f];
        using var runtime = EmulatedKernels.CreateRuntime();
        ulong dx = runtime.Allocate(20), dy = runtime.Allocate(10);
        try
        {
            fixed (float* p0 = x0, p1 = x1)
            {
                runtime.CopyHtoD(dx, p0, 12);
                runtime.CopyHtoD(dx + 12, p1, 8);
            }
            runtime.Launch(KernelCatalog.Convert.File, KernelCatalog.Convert.F32ToBf16, 1, 256, 0,
                new KernelArgs().Pointer(dx).Pointer(dy).Int(3).Pointer(dx + 12).Pointer(dy + 6).Int(2));
            var y = new ushort[5];
            fixed (ushort* py = y) runtime.CopyDtoH(py, dy, 10);
            // 1 = 0x3F80, 2.5 = 0x4020, -3.0078125 = -(3 + 1/128): 3 is 0x4040, the 1/128 is half a step at 3 → tie → even 0xC040;
            // 0.1 = 0x3DCCCCCD → 0x3DCD (the dropped 0xCCCD is above half); 1e-40 = 0x000116C2 → 0x0001.
            Assert.Equal(new ushort[] { 0x3F80, 0x4020, 0xC040, 0x3DCD, 0x0001 }, y);
        }
        finally
        {
            runtime.Free(dx);
            runtime.Free(dy);
        }
    }

    /// <summary>TF32 keeps 10 mantissa bits, rounding to nearest with ties away from zero (PTX cvt.rna.tf32.f32).</summary>
    [Theory]
    [InlineData(0x3F800000u, 0x3F800000u)] // 1
    [InlineData(0x3F801000u, 0x3F802000u)] // 1 + half a TF32 step: tie, away from zero
    [InlineData(0xBF801000u, 0xBF802000u)] // negative tie: away from zero
    [InlineData(0x3F800FFFu, 0x3F800000u)] // just below the tie: down
    [InlineData(0x3FFFF000u, 0x40000000u)] // carry into the exponent
    [InlineData(0x7F800000u, 0x7F800000u)] // inf unchanged
    public void Tf32RoundingKeepsTenMantissaBits(uint input, uint expected) =>
        Assert.Equal(expected, BitConverter.SingleToUInt32Bits(Bf16.RoundToTf32(BitConverter.UInt32BitsToSingle(input))));

    /// <summary>
    /// The reference: the BF16 neighbours below and above in magnitude (the truncated pattern and the next one; an
    /// exponent of all ones above counts as infinity = 2^128) compared in double precision, ties to the even pattern.
    /// NaN: any NaN of the same sign is accepted, so the expected pattern is the kernel's quiet form of it.
    /// </summary>
    private static ushort IndependentOrNaN(uint bits)
    {
        float f = BitConverter.UInt32BitsToSingle(bits);
        if (float.IsNaN(f)) return (ushort)((bits >> 16) | 0x0040);
        ushort low = (ushort)(bits >> 16), high = (ushort)(low + 1);
        if (float.IsInfinity(f) || (bits & 0xFFFF) == 0) return low;
        double magnitude = Math.Abs((double)f);
        double lowValue = Math.Abs((double)BitConverter.UInt32BitsToSingle((uint)low << 16));
        double highValue = (high & 0x7F80) == 0x7F80 ? Math.Pow(2, 128) : Math.Abs((double)BitConverter.UInt32BitsToSingle((uint)high << 16));
        double below = magnitude - lowValue, above = highValue - magnitude;
        if (below < above) return low;
        if (above < below) return high;
        return (low & 1) == 0 ? low : high;
    }

    private static ushort[] RunKernel(float[] values)
    {
        using var runtime = EmulatedKernels.CreateRuntime();
        ulong x = runtime.Allocate((ulong)values.Length * 4), y = runtime.Allocate((ulong)values.Length * 2);
        try
        {
            fixed (float* p = values) runtime.CopyHtoD(x, p, (ulong)values.Length * 4);
            runtime.Launch(KernelCatalog.Convert.File, KernelCatalog.Convert.F32ToBf16, Dim3.Blocks(values.Length, 256), 256, 0,
                new KernelArgs().Pointer(x).Pointer(y).Int(values.Length).Pointer(0).Pointer(0).Int(0));
            var result = new ushort[values.Length];
            fixed (ushort* p = result) runtime.CopyDtoH(p, y, (ulong)values.Length * 2);
            return result;
        }
        finally
        {
            runtime.Free(x);
            runtime.Free(y);
        }
    }
}
