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
        const string op = OpChecks.Names.GatherRows;
        OpChecks.GatherRows(x, indices, y);
        if (indices.Length == 0) return;
        int cols = x.Cols;
        Launch(K.Rows.File, K.Rows.Gather, Elements((long)indices.Length * cols), Threads,
            new KernelArgs().Pointer(P(x, op)).Pointer(UploadIndices(indices)).Pointer(P(y, op)).Int(indices.Length).Int(cols));
    }

    public void ScatterAddRows(Tensor x, ReadOnlySpan<int> indices, Tensor y)
    {
        const string op = OpChecks.Names.ScatterAddRows;
        OpChecks.ScatterAddRows(x, indices, y);
        if (indices.Length == 0) return;
        AddListedRows(P(x, op), indices, P(y, op), y.Rows, y.Cols);
    }

    /// <summary>dst[t] += Σ src[i] over the i with target[i] = t, in ascending i: deterministic, no atomics (rows.cu).</summary>
    private void AddListedRows(ulong src, ReadOnlySpan<int> target, ulong dst, int dstRows, int cols)
    {
        if (dstRows == 0 || cols == 0) return;
        // table = offsets (dstRows + 1) then the source rows grouped by target, ascending within a group; uploaded by
        // content like any index array, so a repeated step uploads nothing.
        var table = new int[dstRows + 1 + target.Length];
        foreach (int t in target)
            if (t >= 0) table[t + 1]++;
        for (int t = 0; t < dstRows; t++) table[t + 1] += table[t];
        var fill = table.AsSpan(0, dstRows).ToArray();
        int used = 0;
        for (int i = 0; i < target.Length; i++)
            if (target[i] >= 0) { table[dstRows + 1 + fill[target[i]]++] = i; used++; }
        Launch(K.Rows.File, K.Rows.AddListed, Elements((long)dstRows * cols), Threads, new KernelArgs().Pointer(src)
            .Pointer(UploadIndices(table.AsSpan(0, dstRows + 1 + used))).Pointer(dst).Int(dstRows).Int(cols));
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
        if (dy.Length == 0) return;
        if (dBase is not null)
            Launch(K.Rows.File, K.Rows.SpliceBackward, Elements(dy.Length), Threads, new KernelArgs().Pointer(P(dy, op))
                .Pointer(UploadIndices(sourceForRow)).Pointer(P(dBase, op)).Int(dy.Rows).Int(dy.Cols));
        // The prompt rows' gradient: summed per source row in destination order, the same bits on every run.
        if (dSource is not null) AddListedRows(P(dy, op), sourceForRow, P(dSource, op), dSource.Rows, dy.Cols);
    }
}
