using PromptAD.Tensors;
using K = PromptAD.Kernels.KernelCatalog;

namespace PromptAD.Kernels;

// Row reductions, broadcasts, gather and scatter-add (reduce.cu, rows.cu).
public sealed partial class CudaBackend
{
    public void SumRows(Tensor x, Tensor y, float scale)
    {
        const string op = OpChecks.Names.SumRows;
        OpChecks.SumRows(x, y);
        int rows = x.Rows, cols = x.Cols;
        if (cols == 0) return;
        Launch(K.Reduce.File, K.Reduce.SumRows, (uint)((cols + 31) / 32), new Dim3(32, 8),
            new KernelArgs().Pointer(P(x, op)).Pointer(P(y, op)).Int(rows).Int(cols).Float(scale).Int(0));
    }

    public void BroadcastRows(Tensor x, Tensor y, float scale)
    {
        const string op = OpChecks.Names.BroadcastRows;
        OpChecks.BroadcastRows(x, y);
        int rows = y.Rows, cols = y.Cols;
        Launch(K.Reduce.File, K.Reduce.BroadcastRows, Elements(y.Length), Threads,
            new KernelArgs().Pointer(P(x, op)).Pointer(P(y, op)).Int(rows).Int(cols).Float(scale));
    }

    public void GatherRows(Tensor x, ReadOnlySpan<int> indices, Tensor y)
    {
        OpChecks.GatherRows(x, indices, y);
        IndexedRows(K.Rows.Gather, OpChecks.Names.GatherRows, x, indices, y);
    }

    public void ScatterAddRows(Tensor x, ReadOnlySpan<int> indices, Tensor y)
    {
        OpChecks.ScatterAddRows(x, indices, y);
        IndexedRows(K.Rows.ScatterAdd, OpChecks.Names.ScatterAddRows, x, indices, y);
    }

    public void SpliceRows(Tensor baseRows, Tensor source, ReadOnlySpan<int> sourceForRow, Tensor y)
    {
        const string op = OpChecks.Names.SpliceRows;
        OpChecks.SpliceRows(baseRows, source, sourceForRow, y);
        if (y.Length == 0) return;
        Launch(K.Rows.File, K.Rows.Splice, Elements(y.Length), Threads, new KernelArgs().Pointer(P(baseRows, op)).Pointer(P(source, op))
            .Pointer(UploadIndices(sourceForRow)).Pointer(P(y, op)).Int(y.Rows).Int(y.Cols));
    }

    public void SpliceRowsBackward(Tensor dy, ReadOnlySpan<int> sourceForRow, Tensor? dBase, Tensor? dSource)
    {
        const string op = OpChecks.Names.SpliceRowsBackward;
        OpChecks.SpliceRowsBackward(dy, sourceForRow, dBase, dSource);
        if (dy.Length == 0 || (dBase is null && dSource is null)) return;
        Launch(K.Rows.File, K.Rows.SpliceBackward, Elements(dy.Length), Threads, new KernelArgs().Pointer(P(dy, op))
            .Pointer(UploadIndices(sourceForRow)).Pointer(dBase is null ? 0 : P(dBase, op)).Pointer(dSource is null ? 0 : P(dSource, op))
            .Int(dy.Rows).Int(dy.Cols));
    }

    /// <summary>Launches gather_rows or scatter_add_rows (same arguments) over indices.Length rows of x's width
    /// (checked by the caller to equal y's).</summary>
    private void IndexedRows(string kernel, string op, Tensor x, ReadOnlySpan<int> indices, Tensor y)
    {
        if (indices.Length == 0) return;
        int cols = x.Cols;
        ulong idx = UploadIndices(indices);
        Launch(K.Rows.File, kernel, Elements((long)indices.Length * cols), Threads,
            new KernelArgs().Pointer(P(x, op)).Pointer(idx).Pointer(P(y, op)).Int(indices.Length).Int(cols));
    }
}
