namespace PromptAD.Tests.Ops;

/// <summary>
/// Plain double-precision scalar references for every op, named after the kernels they check
/// (layernorm_forward ↔ LayerNormForward). Written from the math, not from the backends: simple loops, no SIMD,
/// no shared code with src/. Matrices are row-major double arrays with explicit sizes.
/// </summary>
internal static class ScalarReference
{
    public static double Erf(double x)
    {
        double ax = Math.Abs(x), r;
        if (ax < 2.5)
        {
            // Maclaurin series; terms peak near 5e2 at x = 2.5, so ~1e-13 of precision remains.
            double sum = 0, term = ax;
            for (int n = 0; n < 200; n++)
            {
                double t = term / (2 * n + 1);
                sum += t;
                if (Math.Abs(t) < 1e-18) break;
                term *= -ax * ax / (n + 1);
            }
            r = 2 / Math.Sqrt(Math.PI) * sum;
        }
        else
        {
            // Continued fraction for erfc: x + (1/2)/(x + 1/(x + (3/2)/(x + …))).
            double f = ax;
            for (int k = 80; k >= 1; k--) f = ax + k / 2.0 / f;
            r = 1 - Math.Exp(-ax * ax) / Math.Sqrt(Math.PI) / f;
        }
        return x < 0 ? -r : r;
    }

    public static double[] matmul(double[] a, double[] b, int m, int n, int k, bool transA, bool transB)
    {
        var c = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++)
                    s += (transA ? a[p * m + i] : a[i * k + p]) * (transB ? b[j * k + p] : b[p * n + j]);
                c[i * n + j] = s;
            }
        return c;
    }

    public static double[] linear(double[] x, double[] w, double[]? bias, int rows, int inF, int outF)
    {
        var y = new double[rows * outF];
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < outF; o++)
            {
                double s = bias?[o] ?? 0;
                for (int i = 0; i < inF; i++) s += x[r * inF + i] * w[o * inF + i];
                y[r * outF + o] = s;
            }
        return y;
    }

    public static double[] map(double[] x, Func<double, double> f) => x.Select(f).ToArray();

    public static double gelu(double x) => 0.5 * x * (1 + Erf(x / Math.Sqrt(2)));

    public static double quickgelu(double x) => x / (1 + Math.Exp(-1.702 * x));

    public static double relu(double x) => Math.Max(0, x);

    public static double[] add_bias(double[] x, double[] bias, int rows, int cols)
    {
        var y = new double[rows * cols];
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) y[r * cols + c] = x[r * cols + c] + bias[c];
        return y;
    }

    public static double[] layernorm_forward(double[] x, double[] gamma, double[] beta, int rows, int cols, double eps)
    {
        var y = new double[rows * cols];
        for (int r = 0; r < rows; r++)
        {
            double mean = 0, var = 0;
            for (int c = 0; c < cols; c++) mean += x[r * cols + c];
            mean /= cols;
            for (int c = 0; c < cols; c++) var += (x[r * cols + c] - mean) * (x[r * cols + c] - mean);
            var /= cols;
            for (int c = 0; c < cols; c++) y[r * cols + c] = (x[r * cols + c] - mean) / Math.Sqrt(var + eps) * gamma[c] + beta[c];
        }
        return y;
    }

    public static double[] softmax_forward(double[] x, int rows, int cols, int causalSeqLen)
    {
        var y = new double[rows * cols];
        for (int r = 0; r < rows; r++)
        {
            int valid = causalSeqLen > 0 ? r % causalSeqLen + 1 : cols;
            double max = double.NegativeInfinity, sum = 0;
            for (int c = 0; c < valid; c++) max = Math.Max(max, x[r * cols + c]);
            for (int c = 0; c < valid; c++) sum += Math.Exp(x[r * cols + c] - max);
            for (int c = 0; c < valid; c++) y[r * cols + c] = Math.Exp(x[r * cols + c] - max) / sum;
        }
        return y;
    }

    /// <summary>Attention by definition, one (batch, head) at a time; vv = CLIP Surgery's v·vᵀ variant.</summary>
    public static double[] attention_forward(double[] qkv, int batch, int seq, int heads, int width, bool causal, bool vv)
    {
        int hd = width / heads;
        var y = new double[batch * seq * width];
        double scale = 1 / Math.Sqrt(hd);
        for (int b = 0; b < batch; b++)
            for (int h = 0; h < heads; h++)
            {
                double Q(int t, int d) => qkv[(b * seq + t) * 3 * width + (vv ? 2 * width : 0) + h * hd + d];
                double K(int t, int d) => qkv[(b * seq + t) * 3 * width + (vv ? 2 * width : width) + h * hd + d];
                double V(int t, int d) => qkv[(b * seq + t) * 3 * width + 2 * width + h * hd + d];
                for (int i = 0; i < seq; i++)
                {
                    int valid = causal ? i + 1 : seq;
                    var s = new double[valid];
                    double max = double.NegativeInfinity, sum = 0;
                    for (int j = 0; j < valid; j++)
                    {
                        double dot = 0;
                        for (int d = 0; d < hd; d++) dot += Q(i, d) * K(j, d);
                        s[j] = dot * scale;
                        max = Math.Max(max, s[j]);
                    }
                    for (int j = 0; j < valid; j++) { s[j] = Math.Exp(s[j] - max); sum += s[j]; }
                    for (int d = 0; d < hd; d++)
                    {
                        double o = 0;
                        for (int j = 0; j < valid; j++) o += s[j] / sum * V(j, d);
                        y[(b * seq + i) * width + h * hd + d] = o;
                    }
                }
            }
        return y;
    }

    public static double[] l2normalize_forward(double[] x, int rows, int cols)
    {
        var y = new double[rows * cols];
        for (int r = 0; r < rows; r++)
        {
            double n = 0;
            for (int c = 0; c < cols; c++) n += x[r * cols + c] * x[r * cols + c];
            n = Math.Max(Math.Sqrt(n), 1e-12);
            for (int c = 0; c < cols; c++) y[r * cols + c] = x[r * cols + c] / n;
        }
        return y;
    }

    public static double[] cosine_similarity(double[] a, double[] b, int m, int n, int d)
    {
        var an = l2normalize_forward(a, m, d);
        var bn = l2normalize_forward(b, n, d);
        return matmul(an, bn, m, n, d, false, true);
    }

    public static double[] sum_rows(double[] x, int rows, int cols, double scale)
    {
        var y = new double[cols];
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) y[c] += x[r * cols + c];
        for (int c = 0; c < cols; c++) y[c] *= scale;
        return y;
    }

    public static double[] gather_rows(double[] x, int cols, int[] idx)
    {
        var y = new double[idx.Length * cols];
        for (int i = 0; i < idx.Length; i++) Array.Copy(x, idx[i] * cols, y, i * cols, cols);
        return y;
    }

    public static double[] splice_rows(double[] baseRows, double[] src, int cols, int[] positions)
    {
        var y = (double[])baseRows.Clone();
        for (int i = 0; i < positions.Length; i++) Array.Copy(src, i * cols, y, positions[i] * cols, cols);
        return y;
    }

    public static double[] softmax_crossentropy_forward(double[] logits, int rows, int cols, int[] targets)
    {
        double total = 0;
        for (int r = 0; r < rows; r++)
        {
            double max = double.NegativeInfinity, sum = 0;
            for (int c = 0; c < cols; c++) max = Math.Max(max, logits[r * cols + c]);
            for (int c = 0; c < cols; c++) sum += Math.Exp(logits[r * cols + c] - max);
            total += Math.Log(sum) + max - logits[r * cols + targets[r]];
        }
        return [total / rows];
    }

    public static double[] squared_distance_forward(double[] a, double[] b, int rows, int cols, bool broadcast)
    {
        var y = new double[rows];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
            {
                double d = a[r * cols + c] - b[(broadcast ? 0 : r) * cols + c];
                y[r] += d * d;
            }
        return y;
    }

    public static double[] nearest_neighbour_forward(double[] q, double[] bank, int nq, int nb, int d)
    {
        var cos = cosine_similarity(q, bank, nq, nb, d);
        var y = new double[nq];
        for (int i = 0; i < nq; i++)
        {
            double best = double.PositiveInfinity;
            for (int j = 0; j < nb; j++) best = Math.Min(best, (1 - cos[i * nb + j]) / 2);
            y[i] = best;
        }
        return y;
    }

    /// <summary>Bilinear, align_corners = false, written out per output pixel as PyTorch documents it.</summary>
    public static double[] upsample_bilinear(double[] x, int ch, int ih, int iw, int oh, int ow)
    {
        var y = new double[ch * oh * ow];
        static (int, int, double) Src(int dst, int inSize, int outSize)
        {
            double s = Math.Max(0, (dst + 0.5) * inSize / outSize - 0.5);
            int i0 = Math.Min((int)Math.Floor(s), inSize - 1);
            int i1 = Math.Min(i0 + 1, inSize - 1);
            return (i0, i1, s - i0);
        }
        for (int c = 0; c < ch; c++)
            for (int oy = 0; oy < oh; oy++)
            {
                var (y0, y1, ly) = Src(oy, ih, oh);
                for (int ox = 0; ox < ow; ox++)
                {
                    var (x0, x1, lx) = Src(ox, iw, ow);
                    double v00 = x[(c * ih + y0) * iw + x0], v01 = x[(c * ih + y0) * iw + x1];
                    double v10 = x[(c * ih + y1) * iw + x0], v11 = x[(c * ih + y1) * iw + x1];
                    y[(c * oh + oy) * ow + ox] = (1 - ly) * ((1 - lx) * v00 + lx * v01) + ly * ((1 - lx) * v10 + lx * v11);
                }
            }
        return y;
    }
}
