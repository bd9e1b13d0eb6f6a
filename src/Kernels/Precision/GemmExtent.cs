namespace PromptAD.Kernels;

/// <summary>
/// How many elements a row-major strided-batched GEMM reads from A or B, counted from the operand's first element
/// (<see cref="PromptAD.Tensors.GemmBounds"/>'s arithmetic): what a BF16 copy of the operand must cover.
/// </summary>
public static class GemmExtent
{
    public static long A(bool transA, int m, int k, int lda, long strideA, int batch) =>
        Of(transA ? k : m, transA ? m : k, lda, strideA, batch);

    public static long B(bool transB, int n, int k, int ldb, long strideB, int batch) =>
        Of(transB ? n : k, transB ? k : n, ldb, strideB, batch);

    private static long Of(int rows, int cols, int ld, long stride, int batch) =>
        rows == 0 || cols == 0 || batch == 0 ? 0 : (batch - 1) * stride + (long)(rows - 1) * ld + cols;
}
