using PromptAD.Tensors;
using K = PromptAD.Kernels.KernelCatalog;

namespace PromptAD.Kernels;

// GEMM precision (GemmPrecision): every GEMM of this backend goes through DeviceGemm. FP32 and TF32 go straight to the
// runtime (TF32 is cuBLAS' math mode); BF16 converts A and B with convert.cu into pooled scratch (no allocation once
// the pool is warm) and runs the runtime's BF16 GEMM with FP32 accumulation. Frozen storage (the CLIP weights) is
// converted once into a BF16 copy that lives with the storage (CudaStorage.Bf16Copy); activations and learned vectors
// are converted at each GEMM, so they are never read from an out-of-date copy.
public sealed partial class CudaBackend
{
    public GemmPrecision Precision => Runtime.Precision;

    /// <summary>
    /// A GEMM on device addresses in this backend's precision. <paramref name="aBf16"/>/<paramref name="bBf16"/> are the
    /// operands' BF16 copies where one exists (frozen weights), else 0 and the operand is converted here.
    /// </summary>
    private void DeviceGemm(bool transA, bool transB, int m, int n, int k, float alpha, ulong a, int lda, long strideA,
        ulong b, int ldb, long strideB, float beta, ulong c, int ldc, long strideC, int batch, ulong aBf16 = 0, ulong bBf16 = 0)
    {
        // k = 0 reads neither operand (C is only scaled by beta): nothing to convert.
        if (Precision != GemmPrecision.Bf16 || k == 0)
        {
            Runtime.Gemm(transA, transB, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta, c, ldc, strideC, batch);
            return;
        }
        if (m == 0 || n == 0 || batch == 0) return;
        long na = aBf16 == 0 ? GemmExtent.A(transA, m, k, lda, strideA, batch) : 0;
        long nb = bBf16 == 0 ? GemmExtent.B(transB, n, k, ldb, strideB, batch) : 0;
        long bStart = (na + 7) & ~7L; // B's copy starts 16-byte aligned, as tensor-core GEMMs prefer
        ulong scratch = na + nb > 0 ? Memory.Rent((ulong)(bStart + nb) * sizeof(ushort)) : 0;
        try
        {
            if (aBf16 == 0) aBf16 = scratch;
            if (bBf16 == 0) bBf16 = scratch + (ulong)bStart * sizeof(ushort);
            if (na + nb > 0) ConvertToBf16(a, aBf16, na, b, bBf16, nb);
            Runtime.GemmBf16(transA, transB, m, n, k, alpha, aBf16, lda, strideA, bBf16, ldb, strideB, beta, c, ldc, strideC, batch);
        }
        finally
        {
            // Stream order makes the block safe to hand out again at once: later work on it runs after this GEMM.
            if (scratch != 0) Memory.Return(scratch);
        }
    }

    /// <summary>The BF16 copy of a GEMM operand at <paramref name="offset"/> elements into <paramref name="t"/>, or 0 when
    /// it must be converted at the GEMM (not BF16, or not frozen).</summary>
    private ulong Bf16Operand(Tensor t, long offset) =>
        Precision == GemmPrecision.Bf16 && t.Storage is CudaStorage { IsFrozen: true } s
            ? s.Bf16Copy(this) + (ulong)(t.Offset + offset) * sizeof(ushort)
            : 0;

    /// <summary>One launch converting up to two FP32 ranges to BF16 (round to nearest even, convert.cu).</summary>
    internal void ConvertToBf16(ulong x0, ulong y0, long n0, ulong x1 = 0, ulong y1 = 0, long n1 = 0)
    {
        if (n0 + n1 == 0) return;
        Launch(K.Convert.File, K.Convert.F32ToBf16, Elements(n0 + n1), Threads,
            new KernelArgs().Pointer(x0).Pointer(y0).Int(checked((int)n0)).Pointer(x1).Pointer(y1).Int(checked((int)n1)));
    }

    /// <summary>The device address of a tensor the op writes: frozen storage (weights) is refused, since its BF16 copy
    /// would go out of date.</summary>
    private ulong Written(Tensor t, string op)
    {
        ulong p = P(t, op);
        if (t.Storage.IsFrozen) throw new InvalidOperationException($"{op}: {t} is frozen (model weights are read-only)");
        return p;
    }
}
