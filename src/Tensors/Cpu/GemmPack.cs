using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace PromptAD.Tensors.Cpu;

/// <summary>
/// Packs blocks of op(A) and op(B) into the contiguous, zero-padded micro-panel layout the kernels stream through:
/// A as consecutive panels of mr rows stored k-major (mr values per k step), B as panels of nr columns stored k-major
/// (nr values per k step). Padding with zeros lets every kernel call compute a full tile; only the write-back of
/// edge tiles is clipped.
/// </summary>
internal static unsafe class GemmPack
{
    /// <summary>Packs op(A)[i0 .. i0+mc, p0 .. p0+kc] into ceil(mc/mr) panels of mr*kc floats.</summary>
    public static void PackA(bool transA, float* a, int lda, int i0, int mc, int p0, int kc, int mr, float* dst)
    {
        for (int ip = 0; ip < mc; ip += mr, dst += (long)mr * kc)
        {
            int rows = Math.Min(mr, mc - ip);
            if (transA)
            {
                // A is stored [k, m]: each k step's mr values are already contiguous.
                float* src = a + (long)p0 * lda + i0 + ip;
                for (int p = 0; p < kc; p++, src += lda)
                {
                    float* d = dst + p * mr;
                    int ii = 0;
                    for (; ii < rows; ii++) d[ii] = src[ii];
                    for (; ii < mr; ii++) d[ii] = 0f;
                }
            }
            else if (rows == 8 && mr == 8 && Avx512F.IsSupported && kc >= 16)
            {
                PackRowsTransposed8(a + (long)(i0 + ip) * lda + p0, lda, kc, dst);
            }
            else
            {
                // A is stored [m, k]: read each row contiguously, scatter into the panel with stride mr.
                for (int ii = 0; ii < mr; ii++)
                {
                    float* d = dst + ii;
                    if (ii < rows)
                    {
                        float* src = a + (long)(i0 + ip + ii) * lda + p0;
                        for (int p = 0; p < kc; p++) d[p * mr] = src[p];
                    }
                    else
                    {
                        for (int p = 0; p < kc; p++) d[p * mr] = 0f;
                    }
                }
            }
        }
    }

    /// <summary>Packs op(B)[p0 .. p0+kc, j0 .. j0+nc] into ceil(nc/nr) panels of nr*kc floats.</summary>
    public static void PackB(bool transB, float* b, int ldb, int p0, int kc, int j0, int nc, int nr, float* dst)
    {
        for (int jp = 0; jp < nc; jp += nr, dst += (long)nr * kc)
        {
            int cols = Math.Min(nr, nc - jp);
            if (!transB)
            {
                // B is stored [k, n]: each k step's nr values are contiguous in the source row.
                float* src = b + (long)p0 * ldb + j0 + jp;
                if (cols == 32 && nr == 32 && Vector512.IsHardwareAccelerated)
                {
                    for (int p = 0; p < kc; p++, src += ldb)
                    {
                        Vector512.StoreAligned(Vector512.Load(src), dst + p * 32);
                        Vector512.StoreAligned(Vector512.Load(src + 16), dst + p * 32 + 16);
                    }
                    continue;
                }
                for (int p = 0; p < kc; p++, src += ldb)
                {
                    float* d = dst + p * nr;
                    int jj = 0;
                    for (; jj < cols; jj++) d[jj] = src[jj];
                    for (; jj < nr; jj++) d[jj] = 0f;
                }
            }
            else
            {
                // B is stored [n, k] (the weight layout of a linear layer): a transpose. Full panels go through
                // 16 x 16 register transposes, which beat the scalar scatter by several times.
                float* srcBase = b + (long)(j0 + jp) * ldb + p0;
                int pDone = 0;
                if (cols == nr && nr % 16 == 0 && Avx512F.IsSupported)
                {
                    for (; pDone + 16 <= kc; pDone += 16)
                        for (int jj = 0; jj < nr; jj += 16)
                            Transpose16x16(srcBase + (long)jj * ldb + pDone, ldb, dst + pDone * nr + jj, nr);
                }
                for (int jj = 0; jj < nr; jj++)
                {
                    float* d = dst + jj;
                    if (jj < cols)
                    {
                        float* src = srcBase + (long)jj * ldb;
                        for (int p = pDone; p < kc; p++) d[p * nr] = src[p];
                    }
                    else
                    {
                        for (int p = pDone; p < kc; p++) d[p * nr] = 0f;
                    }
                }
            }
        }
    }

    // Eight rows of a row-major A, transposed 16 k steps at a time: rows 8..15 of the 16 x 16 transpose are zero
    // padding we never store, so only the first half of each output row (8 floats) is written.
    private static void PackRowsTransposed8(float* src, int lda, int kc, float* dst)
    {
        float* tmp = stackalloc float[16 * 16 + 16];
        float* t = (float*)(((nint)tmp + 63) & ~(nint)63);
        int p = 0;
        for (; p + 16 <= kc; p += 16)
        {
            Transpose8Rows(src + p, lda, t);
            for (int q = 0; q < 16; q++)
                Vector256.Store(Vector256.Load(t + q * 16), dst + (p + q) * 8);
        }
        for (; p < kc; p++)
            for (int ii = 0; ii < 8; ii++)
                dst[p * 8 + ii] = src[(long)ii * lda + p];
    }

    private static void Transpose8Rows(float* src, int ld, float* dst)
    {
        Vector512<float> z = Vector512<float>.Zero;
        Transpose16(
            Vector512.Load(src), Vector512.Load(src + ld), Vector512.Load(src + 2L * ld), Vector512.Load(src + 3L * ld),
            Vector512.Load(src + 4L * ld), Vector512.Load(src + 5L * ld), Vector512.Load(src + 6L * ld),
            Vector512.Load(src + 7L * ld), z, z, z, z, z, z, z, z, dst, 16);
    }

    /// <summary>dst[q * dstStride + r] = src[r * ld + q] for a 16 x 16 block.</summary>
    private static void Transpose16x16(float* src, int ld, float* dst, int dstStride)
    {
        Transpose16(
            Vector512.Load(src), Vector512.Load(src + ld), Vector512.Load(src + 2L * ld), Vector512.Load(src + 3L * ld),
            Vector512.Load(src + 4L * ld), Vector512.Load(src + 5L * ld), Vector512.Load(src + 6L * ld),
            Vector512.Load(src + 7L * ld), Vector512.Load(src + 8L * ld), Vector512.Load(src + 9L * ld),
            Vector512.Load(src + 10L * ld), Vector512.Load(src + 11L * ld), Vector512.Load(src + 12L * ld),
            Vector512.Load(src + 13L * ld), Vector512.Load(src + 14L * ld), Vector512.Load(src + 15L * ld),
            dst, dstStride);
    }

    // Three shuffle stages: interleave float pairs, then double pairs (each 128-bit lane now holds one column of four
    // rows), then gather the four lanes of a column from the four row groups with two 128-bit lane shuffles.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose16(
        Vector512<float> r0, Vector512<float> r1, Vector512<float> r2, Vector512<float> r3,
        Vector512<float> r4, Vector512<float> r5, Vector512<float> r6, Vector512<float> r7,
        Vector512<float> r8, Vector512<float> r9, Vector512<float> r10, Vector512<float> r11,
        Vector512<float> r12, Vector512<float> r13, Vector512<float> r14, Vector512<float> r15,
        float* dst, int stride)
    {
        Quad(r0, r1, r2, r3, out var a0, out var a1, out var a2, out var a3);
        Quad(r4, r5, r6, r7, out var b0, out var b1, out var b2, out var b3);
        Quad(r8, r9, r10, r11, out var c0, out var c1, out var c2, out var c3);
        Quad(r12, r13, r14, r15, out var d0, out var d1, out var d2, out var d3);
        Lanes(a0, b0, c0, d0, dst, stride);
        Lanes(a1, b1, c1, d1, dst + stride, stride);
        Lanes(a2, b2, c2, d2, dst + 2 * stride, stride);
        Lanes(a3, b3, c3, d3, dst + 3 * stride, stride);
    }

    // Four rows -> per lane L, column 4L+s of those rows in output s.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Quad(Vector512<float> r0, Vector512<float> r1, Vector512<float> r2, Vector512<float> r3,
        out Vector512<float> s0, out Vector512<float> s1, out Vector512<float> s2, out Vector512<float> s3)
    {
        Vector512<double> t0 = Avx512F.UnpackLow(r0, r1).AsDouble(), t1 = Avx512F.UnpackHigh(r0, r1).AsDouble();
        Vector512<double> t2 = Avx512F.UnpackLow(r2, r3).AsDouble(), t3 = Avx512F.UnpackHigh(r2, r3).AsDouble();
        s0 = Avx512F.UnpackLow(t0, t2).AsSingle();
        s1 = Avx512F.UnpackHigh(t0, t2).AsSingle();
        s2 = Avx512F.UnpackLow(t1, t3).AsSingle();
        s3 = Avx512F.UnpackHigh(t1, t3).AsSingle();
    }

    // Lane L of (a, b, c, d) is column 4L+s for rows 0-3, 4-7, 8-11, 12-15; output row 4L+s is their concatenation.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Lanes(Vector512<float> a, Vector512<float> b, Vector512<float> c, Vector512<float> d,
        float* dst, int stride)
    {
        Vector512<float> abLo = Avx512F.Shuffle4x128(a, b, 0x44), cdLo = Avx512F.Shuffle4x128(c, d, 0x44);
        Vector512<float> abHi = Avx512F.Shuffle4x128(a, b, 0xEE), cdHi = Avx512F.Shuffle4x128(c, d, 0xEE);
        Vector512.Store(Avx512F.Shuffle4x128(abLo, cdLo, 0x88), dst);
        Vector512.Store(Avx512F.Shuffle4x128(abLo, cdLo, 0xDD), dst + 4 * stride);
        Vector512.Store(Avx512F.Shuffle4x128(abHi, cdHi, 0x88), dst + 8 * stride);
        Vector512.Store(Avx512F.Shuffle4x128(abHi, cdHi, 0xDD), dst + 12 * stride);
    }
}
