namespace PromptAD.Tensors;

/// <summary>Checks that every matrix a strided-batched GEMM touches lies inside its tensor, for every backend:
/// the native GEMMs would otherwise read or write out of bounds silently.</summary>
public static class GemmBounds
{
    public static void Check(bool transA, bool transB, int m, int n, int k,
        Tensor a, long aOffset, int lda, long strideA,
        Tensor b, long bOffset, int ldb, long strideB,
        Tensor c, long cOffset, int ldc, long strideC, int batch)
    {
        if (m < 0 || n < 0 || k < 0 || batch < 0) throw new ArgumentException($"gemm: negative size m={m} n={n} k={k} batch={batch}");
        if (batch == 0 || m == 0 || n == 0) return;
        Operand("A", a, aOffset, lda, strideA, transA ? k : m, transA ? m : k, batch);
        Operand("B", b, bOffset, ldb, strideB, transB ? n : k, transB ? k : n, batch);
        Operand("C", c, cOffset, ldc, strideC, m, n, batch);
    }

    private static void Operand(string name, Tensor t, long offset, int ld, long stride, int rows, int cols, int batch)
    {
        if (rows == 0 || cols == 0) return;
        if (ld < cols) throw new ArgumentException($"gemm: leading dimension of {name} is {ld}, less than its {cols} columns");
        if (offset < 0 || stride < 0) throw new ArgumentException($"gemm: negative offset or stride for {name}");
        long last = offset + (batch - 1) * stride + (long)(rows - 1) * ld + cols;
        if (last > t.Length)
            throw new ArgumentException($"gemm: {name} ({rows}×{cols}, ld {ld}, stride {stride}, batch {batch}, offset {offset}) reaches element {last} of a tensor of {t.Length} {Shape.Format(t.Shape)}");
    }
}
