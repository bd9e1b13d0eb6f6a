namespace PromptAD.Tensors.Cpu;

// Placeholder until the packed AVX-512 SGEMM lands: straightforward and correct, not fast.
public static unsafe class CpuGemm
{
    public static int MaxThreads { get; set; } = Environment.ProcessorCount;

    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                float s = 0;
                for (int p = 0; p < k; p++)
                    s += (transA ? a[(long)p * lda + i] : a[(long)i * lda + p]) * (transB ? b[(long)j * ldb + p] : b[(long)p * ldb + j]);
                float* cij = c + (long)i * ldc + j;
                *cij = beta == 0 ? alpha * s : alpha * s + beta * *cij;
            }
    }

    public static void SgemmStridedBatched(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, long strideA, float* b, int ldb, long strideB, float beta,
        float* c, int ldc, long strideC, int batch)
    {
        for (int i = 0; i < batch; i++)
            Sgemm(transA, transB, m, n, k, alpha, a + i * strideA, lda, b + i * strideB, ldb, beta, c + i * strideC, ldc);
    }
}
