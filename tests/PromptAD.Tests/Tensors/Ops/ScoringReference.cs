namespace PromptAD.Tests.Ops;

/// <summary>Double-precision references of the batched scoring ops, written from their definitions (SPEC §6, SciPy's
/// gaussian_filter documentation: reflect mode, radius int(truncate·σ + 0.5), normalized exp(−x²/2σ²)).</summary>
public static class ScoringReference
{
    public static double[] row_max(double[] x, int rows, int cols, double scale, double shift)
    {
        var y = new double[rows];
        for (int r = 0; r < rows; r++)
        {
            double m = double.NegativeInfinity;
            for (int c = 0; c < cols; c++) m = Math.Max(m, x[r * cols + c]);
            y[r] = scale * m + shift;
        }
        return y;
    }

    public static double[] anomaly_fuse(double[] sims, double[] d1, double[] d2, int r, double logitScale)
    {
        var y = new double[2 * r];
        for (int i = 0; i < r; i++)
        {
            // softmax over (normal, anomaly) similarities, anomaly probability
            double en = Math.Exp(logitScale * sims[2 * i]), ea = Math.Exp(logitScale * sims[2 * i + 1]);
            double pad = ea / (en + ea);
            double vad = (d1[i] + d2[i]) / 2;
            y[i] = 1 / (1 / pad + 1 / vad);
            y[r + i] = vad;
        }
        return y;
    }

    public static double[] gaussian_blur(double[] x, int ch, int h, int w, double sigma, double truncate)
    {
        int radius = (int)(truncate * sigma + 0.5);
        var k = new double[2 * radius + 1];
        for (int i = -radius; i <= radius; i++) k[i + radius] = Math.Exp(-i * i / (2 * sigma * sigma));
        double sum = k.Sum();
        for (int i = 0; i < k.Length; i++) k[i] /= sum;
        static int Reflect(int i, int n)
        {
            while (i < 0 || i >= n) i = i < 0 ? -i - 1 : 2 * n - i - 1;
            return i;
        }
        var tmp = new double[x.Length];
        var y = new double[x.Length];
        for (int c = 0; c < ch; c++)
        {
            int o = c * h * w;
            for (int r = 0; r < h; r++)
                for (int col = 0; col < w; col++)
                {
                    double acc = 0;
                    for (int j = -radius; j <= radius; j++) acc += k[j + radius] * x[o + Reflect(r + j, h) * w + col];
                    tmp[o + r * w + col] = acc;
                }
            for (int r = 0; r < h; r++)
                for (int col = 0; col < w; col++)
                {
                    double acc = 0;
                    for (int j = -radius; j <= radius; j++) acc += k[j + radius] * tmp[o + r * w + Reflect(col + j, w)];
                    y[o + r * w + col] = acc;
                }
        }
        return y;
    }
}
