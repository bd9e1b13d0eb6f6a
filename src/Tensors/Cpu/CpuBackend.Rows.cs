namespace PromptAD.Tensors.Cpu;

// Reductions over rows and row gather/scatter (prompt vectors spliced into token embeddings, end-token pooling).
public sealed unsafe partial class CpuBackend
{
    public void SumRows(Tensor x, Tensor y, float scale)
    {
        const string op = OpChecks.Names.SumRows;
        OpChecks.SumRows(x, y);
        int rows = x.Rows, cols = x.Cols;
        float* px = P(x, op), py = P(y, op);
        // Split over columns so each core owns a stripe of y; rows are summed in order (deterministic).
        int stripes = Math.Max(1, (cols + 63) / 64);
        CpuParallel.For(stripes, 64L * rows, (s0, s1) =>
        {
            int c0 = s0 * 64, c1 = Math.Min(cols, s1 * 64);
            for (int c = c0; c < c1; c++) py[c] = 0;
            for (int r = 0; r < rows; r++)
            {
                float* xr = px + (long)r * cols;
                for (int c = c0; c < c1; c++) py[c] += xr[c];
            }
            for (int c = c0; c < c1; c++) py[c] *= scale;
        });
    }

    public void BroadcastRows(Tensor x, Tensor y, float scale)
    {
        const string op = OpChecks.Names.BroadcastRows;
        OpChecks.BroadcastRows(x, y);
        int cols = y.Cols, rows = y.Rows;
        float* px = P(x, op), py = P(y, op);
        CpuParallel.For(rows, cols, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++) Simd.Scale(px, scale, py + (long)r * cols, cols);
        });
    }

    public void GatherRows(Tensor x, ReadOnlySpan<int> indices, Tensor y)
    {
        const string op = OpChecks.Names.GatherRows;
        OpChecks.GatherRows(x, indices, y);
        int cols = x.Cols;
        float* px = P(x, op), py = P(y, op);
        for (int i = 0; i < indices.Length; i++)
            Simd.Copy(px + (long)indices[i] * cols, py + (long)i * cols, cols);
    }

    public void ScatterAddRows(Tensor x, ReadOnlySpan<int> indices, Tensor y)
    {
        const string op = OpChecks.Names.ScatterAddRows;
        OpChecks.ScatterAddRows(x, indices, y);
        int cols = y.Cols;
        float* px = P(x, op), py = P(y, op);
        // Sequential: repeated indices must add up, and these tensors are small (a few prompt rows).
        for (int i = 0; i < indices.Length; i++)
            Simd.AddScaled(px + (long)i * cols, 1f, py + (long)indices[i] * cols, cols);
    }

    public void SpliceRows(Tensor baseRows, Tensor source, ReadOnlySpan<int> sourceForRow, Tensor y)
    {
        const string op = OpChecks.Names.SpliceRows;
        OpChecks.SpliceRows(baseRows, source, sourceForRow, y);
        int cols = y.Cols;
        float* pb = P(baseRows, op), ps = P(source, op), py = P(y, op);
        for (int r = 0; r < sourceForRow.Length; r++)
        {
            float* from = sourceForRow[r] >= 0 ? ps + (long)sourceForRow[r] * cols : pb + (long)r * cols;
            if (from != py + (long)r * cols) Simd.Copy(from, py + (long)r * cols, cols);
        }
    }

    public void SpliceRowsBackward(Tensor dy, ReadOnlySpan<int> sourceForRow, Tensor? dBase, Tensor? dSource)
    {
        const string op = OpChecks.Names.SpliceRowsBackward;
        OpChecks.SpliceRowsBackward(dy, sourceForRow, dBase, dSource);
        int cols = dy.Cols;
        float* pdy = P(dy, op);
        float* pdb = dBase is null ? null : P(dBase, op);
        float* pds = dSource is null ? null : P(dSource, op);
        for (int r = 0; r < sourceForRow.Length; r++)
        {
            int s = sourceForRow[r];
            float* row = pdy + (long)r * cols;
            if (pdb is not null)
            {
                if (s >= 0) new Span<float>(pdb + (long)r * cols, cols).Clear();
                else Simd.Copy(row, pdb + (long)r * cols, cols);
            }
            if (pds is not null && s >= 0) Simd.AddScaled(row, 1f, pds + (long)s * cols, cols);
        }
    }
}
