namespace PromptAD.Tensors.Cpu;

// Row softmax (optionally causal) and softmax cross-entropy.
public sealed unsafe partial class CpuBackend
{
    public void SoftmaxForward(Tensor x, Tensor y, int causalSeqLen)
    {
        const string op = OpChecks.Names.SoftmaxForward;
        OpChecks.SoftmaxForward(x, y, causalSeqLen);
        int rows = x.Rows, cols = x.Cols;
        float* px = P(x, op), py = P(y, op);
        CpuParallel.For(rows, 3L * cols, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++) SoftmaxRow(px + (long)r * cols, py + (long)r * cols, cols, causalSeqLen > 0 ? r % causalSeqLen + 1 : cols);
        });
    }

    /// <summary>Softmax over the first <paramref name="valid"/> entries; the rest (masked) become 0.</summary>
    internal static void SoftmaxRow(float* x, float* y, int cols, int valid)
    {
        float max = Simd.Max(x, valid);
        float sum = Simd.ExpShiftSum(x, max, y, valid);
        Simd.Scale(y, 1f / sum, y, valid);
        for (int c = valid; c < cols; c++) y[c] = 0;
    }

    public void SoftmaxBackward(Tensor y, Tensor dy, Tensor dx)
    {
        const string op = OpChecks.Names.SoftmaxBackward;
        OpChecks.SoftmaxBackward(y, dy, dx);
        int rows = y.Rows, cols = y.Cols;
        float* py = P(y, op), pdy = P(dy, op), pdx = P(dx, op);
        CpuParallel.For(rows, 3L * cols, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++) SoftmaxBackwardRow(py + (long)r * cols, pdy + (long)r * cols, pdx + (long)r * cols, cols);
        });
    }

    /// <summary>dx = y ⊙ (dy − Σ y·dy); masked entries have y = 0 and so get 0.</summary>
    internal static void SoftmaxBackwardRow(float* y, float* dy, float* dx, int cols)
    {
        float dot = Simd.Dot(y, dy, cols);
        for (int c = 0; c < cols; c++) dx[c] = y[c] * (dy[c] - dot);
    }

    public void SoftmaxCrossEntropyForward(Tensor logits, ReadOnlySpan<int> targets, Tensor losses, Tensor probs)
    {
        const string op = OpChecks.Names.SoftmaxCrossEntropyForward;
        OpChecks.SoftmaxCrossEntropyForward(logits, targets, losses, probs);
        int rows = logits.Rows, cols = logits.Cols;
        float* px = P(logits, op), pl = P(losses, op), pp = P(probs, op);
        for (int r = 0; r < rows; r++)
        {
            float* xr = px + (long)r * cols, pr = pp + (long)r * cols;
            float max = Simd.Max(xr, cols);
            float sum = Simd.ExpShiftSum(xr, max, pr, cols);
            Simd.Scale(pr, 1f / sum, pr, cols);
            pl[r] = MathF.Log(sum) + max - xr[targets[r]];
        }
    }

    public void SoftmaxCrossEntropyBackward(Tensor probs, ReadOnlySpan<int> targets, Tensor dLosses, Tensor dLogits)
    {
        const string op = OpChecks.Names.SoftmaxCrossEntropyBackward;
        OpChecks.SoftmaxCrossEntropyBackward(probs, targets, dLosses, dLogits);
        int rows = probs.Rows, cols = probs.Cols;
        float* pp = P(probs, op), pdl = P(dLosses, op), pdx = P(dLogits, op);
        for (int r = 0; r < rows; r++)
        {
            Simd.Scale(pp + (long)r * cols, pdl[r], pdx + (long)r * cols, cols);
            pdx[(long)r * cols + targets[r]] -= pdl[r];
        }
    }
}
