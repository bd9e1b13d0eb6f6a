namespace PromptAD.Tensors.Cpu;

// Batched scoring ops: row max (nearest-neighbour distance from a similarity GEMM), patch fusion, Gaussian blur.
public sealed unsafe partial class CpuBackend
{
    public void RowMax(Tensor x, Tensor y, float scale, float shift)
    {
        const string op = OpChecks.Names.RowMax;
        OpChecks.RowMax(x, y);
        int rows = x.Rows, cols = x.Cols;
        float* px = P(x, op), py = P(y, op);
        CpuParallel.For(rows, cols, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++) py[r] = scale * Simd.Max(px + (long)r * cols, cols) + shift;
        });
    }

    public void AnomalyFuse(Tensor sims, Tensor d1, Tensor d2, float logitScale, Tensor y)
    {
        const string op = OpChecks.Names.AnomalyFuse;
        OpChecks.AnomalyFuse(sims, d1, d2, y);
        int r = sims.Rows;
        float* ps = P(sims, op), p1 = P(d1, op), p2 = P(d2, op), py = P(y, op);
        for (int i = 0; i < r; i++)
        {
            float pad = 1f / (1f + MathF.Exp(-logitScale * (ps[2 * i + 1] - ps[2 * i])));
            float vad = (p1[i] + p2[i]) * 0.5f;
            py[i] = 1f / (1f / pad + 1f / vad);
            py[r + i] = vad;
        }
    }

    public void GaussianBlur(Tensor x, Tensor y, double sigma, double truncate)
    {
        const string op = OpChecks.Names.GaussianBlur;
        OpChecks.GaussianBlur(x, y, sigma, truncate);
        int c = x.Dim(0), h = x.Dim(1), w = x.Dim(2);
        if (x.Length == 0) return;
        float* px = P(x, op), py = P(y, op);
        var weights = ScipyGaussian.Kernel(sigma, truncate);
        long plane = (long)h * w;
        CpuParallel.For(c, plane * weights.Length, (c0, c1) =>
        {
            for (int ch = c0; ch < c1; ch++)
                ScipyGaussian.Filter(new ReadOnlySpan<float>(px + ch * plane, (int)plane), new Span<float>(py + ch * plane, (int)plane), w, h, weights);
        });
    }
}
