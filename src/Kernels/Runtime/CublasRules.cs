using PromptAD.Kernels.Native;

namespace PromptAD.Kernels;

/// <summary>
/// The argument checks cuBLAS documents for cublasSgemmStridedBatched and cublasGemmStridedBatchedEx
/// (CUBLAS_STATUS_INVALID_VALUE), applied by the emulated GEMM to the column-major call that <see cref="CudaRuntime"/>
/// makes from our row-major one (B first, m and n swapped), so a call cuBLAS would refuse fails without a GPU too:
/// sizes and batch count not negative; lda ≥ max(1, rows of op(A)) and ldb likewise; ldc ≥ max(1, m); every pointer
/// aligned to its element (4 bytes for FP32, 2 for BF16). Beyond what cuBLAS refuses, batches of C that overlap
/// (|strideC| smaller than one C matrix) are refused too: cuBLAS accepts them and the results are undefined.
/// </summary>
public static class CublasRules
{
    /// <param name="inputBytes">Bytes per element of A and B: 4 (FP32) or 2 (BF16).</param>
    public static void Check(string call, bool transA, bool transB, int m, int n, int k, ulong a, int lda, long strideA,
        ulong b, int ldb, long strideB, ulong c, int ldc, long strideC, int batch, int inputBytes)
    {
        // The call cuBLAS sees: C'(n×m) = op(B')(n×k) · op(A')(k×m), column-major.
        int cm = n, cn = m;
        string? reason =
            m < 0 || n < 0 || k < 0 ? $"negative size (m = {cn}, n = {cm}, k = {k} in row-major terms)"
            : batch < 0 ? $"negative batch count {batch}"
            : ldb < Math.Max(1, transB ? k : cm) ? $"ldb = {ldb} is below max(1, {(transB ? "k" : "n")} = {(transB ? k : cm)}) for row-major B{(transB ? "ᵀ" : "")} (cuBLAS' lda)"
            : lda < Math.Max(1, transA ? cn : k) ? $"lda = {lda} is below max(1, {(transA ? "m" : "k")} = {(transA ? cn : k)}) for row-major A{(transA ? "ᵀ" : "")} (cuBLAS' ldb)"
            : ldc < Math.Max(1, cm) ? $"ldc = {ldc} is below max(1, n = {cm}) (cuBLAS' ldc ≥ max(1, m))"
            : a % (ulong)inputBytes != 0 ? $"A at 0x{a:x} is not aligned to its {inputBytes}-byte elements"
            : b % (ulong)inputBytes != 0 ? $"B at 0x{b:x} is not aligned to its {inputBytes}-byte elements"
            : c % 4 != 0 ? $"C at 0x{c:x} is not aligned to its 4-byte elements"
            : batch > 1 && m > 0 && n > 0 && Math.Abs(strideC) < (long)ldc * (m - 1) + n
                ? $"the {batch} batches of C overlap: |strideC| = {Math.Abs(strideC)} is below one matrix ({(long)ldc * (m - 1) + n} elements); the results would be undefined"
            : null;
        if (reason is not null) throw new CublasException(call, CublasStatus.InvalidValue, reason);
    }
}
