namespace PromptAD.Tensors.Cpu;

// LayerNorm and L2 row normalization: one row per work item.
public sealed unsafe partial class CpuBackend
{
    /// <summary>The smallest norm L2 normalization divides by (as torch.nn.functional.normalize).</summary>
    public const float L2Epsilon = 1e-12f;

    public void LayerNormForward(Tensor x, Tensor gamma, Tensor beta, float eps, Tensor y, Tensor mean, Tensor rstd)
    {
        const string op = OpChecks.Names.LayerNormForward;
        OpChecks.LayerNormForward(x, gamma, beta, y, mean, rstd);
        int rows = x.Rows, cols = x.Cols;
        float* px = P(x, op), pg = P(gamma, op), pb = P(beta, op), py = P(y, op), pm = P(mean, op), pr = P(rstd, op);
        CpuParallel.For(rows, 4L * cols, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                float* xr = px + (long)r * cols;
                float mu = Simd.Sum(xr, cols) / cols;
                // Two-pass variance: exact enough in float for rows of a few thousand values.
                float var = 0;
                for (int c = 0; c < cols; c++) { float d = xr[c] - mu; var += d * d; }
                var /= cols;
                float rs = 1f / MathF.Sqrt(var + eps);
                pm[r] = mu;
                pr[r] = rs;
                Simd.ScaleShift(xr, mu, rs, pg, pb, py + (long)r * cols, cols);
            }
        });
    }

    public void LayerNormBackward(Tensor dy, Tensor x, Tensor gamma, Tensor mean, Tensor rstd, Tensor dx)
    {
        const string op = OpChecks.Names.LayerNormBackward;
        OpChecks.LayerNormBackward(dy, x, gamma, mean, rstd, dx);
        int rows = x.Rows, cols = x.Cols;
        float* pdy = P(dy, op), px = P(x, op), pg = P(gamma, op), pm = P(mean, op), pr = P(rstd, op), pdx = P(dx, op);
        CpuParallel.For(rows, 6L * cols, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                float* xr = px + (long)r * cols, dyr = pdy + (long)r * cols, dxr = pdx + (long)r * cols;
                float mu = pm[r], rs = pr[r];
                // dx = rstd·(g − mean(g) − x̂·mean(g·x̂)) with g = dy·gamma.
                float sumG = 0, sumGX = 0;
                for (int c = 0; c < cols; c++)
                {
                    float g = dyr[c] * pg[c];
                    sumG += g;
                    sumGX += g * (xr[c] - mu) * rs;
                }
                float meanG = sumG / cols, meanGX = sumGX / cols;
                for (int c = 0; c < cols; c++)
                {
                    float xhat = (xr[c] - mu) * rs;
                    dxr[c] = rs * (dyr[c] * pg[c] - meanG - xhat * meanGX);
                }
            }
        });
    }

    public void L2NormalizeForward(Tensor x, Tensor y, Tensor norms)
    {
        const string op = OpChecks.Names.L2NormalizeForward;
        OpChecks.L2NormalizeForward(x, y, norms);
        int rows = x.Rows, cols = x.Cols;
        NormalizeRows(P(x, op), P(y, op), rows, cols, P(norms, op));
    }

    /// <summary>y[r] = x[r] / max(‖x[r]‖, eps), recording the divisors when <paramref name="norms"/> is given
    /// (the op saves them for its backward; the nearest-neighbour tiles do not need them).</summary>
    private static void NormalizeRows(float* x, float* y, int rows, int cols, float* norms = null)
    {
        CpuParallel.For(rows, 2L * cols, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                float* xr = x + (long)r * cols;
                float n = MathF.Max(MathF.Sqrt(Simd.SumSquares(xr, cols)), L2Epsilon);
                if (norms != null) norms[r] = n;
                Simd.Scale(xr, 1f / n, y + (long)r * cols, cols);
            }
        });
    }

    public void L2NormalizeBackward(Tensor y, Tensor norms, Tensor dy, Tensor dx)
    {
        const string op = OpChecks.Names.L2NormalizeBackward;
        OpChecks.L2NormalizeBackward(y, norms, dy, dx);
        int rows = y.Rows, cols = y.Cols;
        float* py = P(y, op), pn = P(norms, op), pdy = P(dy, op), pdx = P(dx, op);
        CpuParallel.For(rows, 3L * cols, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                float* yr = py + (long)r * cols, dyr = pdy + (long)r * cols, dxr = pdx + (long)r * cols;
                float n = pn[r];
                // Where the norm was clamped the map is x/eps, a plain scaling.
                float proj = n > L2Epsilon ? Simd.Dot(yr, dyr, cols) : 0f;
                float inv = 1f / n;
                for (int c = 0; c < cols; c++) dxr[c] = (dyr[c] - yr[c] * proj) * inv;
            }
        });
    }
}
