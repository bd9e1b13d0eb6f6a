using PromptAD.Tensors;
using K = PromptAD.Kernels.KernelCatalog;

namespace PromptAD.Kernels;

// Row reductions, broadcasts, gather and scatter-add (reduce.cu, rows.cu).
public sealed partial class CudaBackend
{
    public void SumRows(Tensor x, Tensor y, float scale)
    {
        const string op = "sum_rows";
        int rows = x.Rows, cols = x.Cols;
        Require.Length(y, cols, op, "y");
        if (cols == 0) return;
        Launch(K.Reduce.File, K.Reduce.SumRows, (uint)((cols + 31) / 32), new Dim3(32, 8),
            new KernelArgs().Pointer(P(x, op)).Pointer(P(y, op)).Int(rows).Int(cols).Float(scale).Int(0));
    }

    public void BroadcastRows(Tensor x, Tensor y, float scale)
    {
        const string op = "broadcast_rows";
        int rows = y.Rows, cols = y.Cols;
        Require.Length(x, cols, op, "x");
        Launch(K.Reduce.File, K.Reduce.BroadcastRows, Elements(y.Length), Threads,
            new KernelArgs().Pointer(P(x, op)).Pointer(P(y, op)).Int(rows).Int(cols).Float(scale));
    }

    public void GatherRows(Tensor x, ReadOnlySpan<int> indices, Tensor y)
    {
        const string op = "gather_rows";
        int cols = x.Cols;
        Require.Indices(indices, x.Rows, op);
        Require.Matrix(y, indices.Length, cols, op, "y");
        if (indices.Length == 0) return;
        ulong idx = UploadIndices(indices);
        Launch(K.Rows.File, K.Rows.Gather, Elements((long)indices.Length * cols), Threads,
            new KernelArgs().Pointer(P(x, op)).Pointer(idx).Pointer(P(y, op)).Int(indices.Length).Int(cols));
    }

    public void ScatterAddRows(Tensor x, ReadOnlySpan<int> indices, Tensor y)
    {
        const string op = "scatter_add_rows";
        int cols = y.Cols;
        Require.Indices(indices, y.Rows, op);
        Require.Matrix(x, indices.Length, cols, op, "x");
        if (indices.Length == 0) return;
        ulong idx = UploadIndices(indices);
        Launch(K.Rows.File, K.Rows.ScatterAdd, Elements((long)indices.Length * cols), Threads,
            new KernelArgs().Pointer(P(x, op)).Pointer(idx).Pointer(P(y, op)).Int(indices.Length).Int(cols));
    }
}
