// convert.cu: FP32 -> BF16 for the BF16 GEMM path (GemmPrecision.Bf16). BF16 is the top half of an FP32: same sign and
// 8-bit exponent, 7 mantissa bits. Launch with any grid (e.g. min(ceil((n0+n1)/256), 65535)), block 256, no shared
// memory; grid-stride.
//
// f32_to_bf16(x0, y0, n0, x1, y1, n1)    y0[i] = bf16(x0[i]) for i < n0, then y1[i] = bf16(x1[i]) for i < n1: both
//   operands of one GEMM in one launch (n1 = 0 converts one range). Outputs are the raw 16-bit patterns.
//
// Rounding is to nearest, ties to even, as __float2bfloat16_rn: add 0x7fff plus the lowest kept bit, then keep the top
// 16 bits. That carries into the exponent when the mantissa overflows (the right result, up to +-inf for values past
// the largest BF16), leaves +-inf unchanged, and treats subnormals like any other bit pattern (no flush to zero, the
// arithmetic is on integers). NaN keeps its sign and top mantissa bits with the quiet bit set, so a NaN whose payload
// lies only in the dropped bits cannot turn into an infinity.
// The host reference is Bf16.FromFloat (src/Kernels/Precision/Bf16.cs); tests check both against a third, independent
// one written in the test.
#include "common.cuh"

static __device__ __forceinline__ unsigned short bf16_round(float f)
{
    const unsigned u = __float_as_uint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (unsigned short)((u >> 16) | 0x0040u);
    return (unsigned short)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

extern "C" __global__ void f32_to_bf16(const float* x0, unsigned short* y0, int n0,
                                       const float* x1, unsigned short* y1, int n1)
{
    GRID_STRIDE(i, (long long)n0 + n1)
    {
        if (i < n0) y0[i] = bf16_round(x0[i]);
        else y1[i - n0] = bf16_round(x1[i - n0]);
    }
}
