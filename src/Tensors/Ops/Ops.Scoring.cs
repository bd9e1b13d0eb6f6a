namespace PromptAD.Tensors;

// Forward-only ops of batched scoring: a whole batch's patch scores and maps computed on the backend in use.
public static partial class Ops
{
    /// <summary>Per row of x [rows, cols]: scale·max + shift. See <see cref="IBackend.RowMax"/>.</summary>
    public static Tensor RowMax(Tensor x, float scale = 1f, float shift = 0f)
    {
        using var trace = Trace.Scope("row_max");
        NoGrad("row_max", x);
        var y = Tensor.Empty(x.Backend, x.Rows);
        x.Backend.RowMax(x, y, scale, shift);
        return y;
    }

    /// <summary>
    /// Nearest-neighbour distance min (1 − cos)/2 of every row of <paramref name="query"/> to the rows of
    /// <paramref name="bank"/>, both already L2-normalized: one GEMM of all queries against the bank and a row max.
    /// </summary>
    public static Tensor NearestDistance(Tensor query, Tensor bank)
    {
        using var scope = TensorScope.Open();
        var y = RowMax(MatMul(query, bank, transB: true), -0.5f, 0.5f);
        return scope.Keep(y);
    }

    /// <summary>[fused; vad] (2·patches values) from prompt similarities [patches, 2] and the two banks' distances.
    /// See <see cref="IBackend.AnomalyFuse"/>.</summary>
    public static Tensor AnomalyFuse(Tensor sims, Tensor d1, Tensor d2, float logitScale)
    {
        using var trace = Trace.Scope("anomaly_fuse");
        NoGrad("anomaly_fuse", sims, d1, d2);
        var y = Tensor.Empty(SameBackend("anomaly_fuse", sims, d1, d2), 2 * sims.Rows);
        sims.Backend.AnomalyFuse(sims, d1, d2, logitScale, y);
        return y;
    }

    /// <summary>SciPy-exact Gaussian blur of maps [channels, h, w]. See <see cref="IBackend.GaussianBlur"/>.</summary>
    public static Tensor GaussianBlur(Tensor x, double sigma, double truncate = 4.0)
    {
        using var trace = Trace.Scope("gaussian_blur");
        NoGrad("gaussian_blur", x);
        var y = Tensor.Empty(x.Backend, x.Dim(0), x.Dim(1), x.Dim(2));
        x.Backend.GaussianBlur(x, y, sigma, truncate);
        return y;
    }
}
