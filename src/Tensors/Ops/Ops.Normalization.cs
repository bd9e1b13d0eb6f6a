namespace PromptAD.Tensors;

// LayerNorm, softmax and L2 normalization.
public static partial class Ops
{
    /// <summary>LayerNorm over the last dimension. gamma/beta are frozen weights: only x gets a gradient.</summary>
    public static Tensor LayerNorm(Tensor x, Tensor gamma, Tensor beta, float eps = 1e-5f)
    {
        using var trace = Trace.Scope("layernorm");
        var be = SameBackend("layernorm", x, gamma, beta);
        NoGrad("layernorm's weight and bias (frozen CLIP weights)", gamma, beta);
        var y = Like(x);
        var mean = Tensor.Empty(be, x.Rows);
        var rstd = Tensor.Empty(be, x.Rows);
        be.LayerNormForward(x, gamma, beta, eps, y, mean, rstd);
        if (!x.RequiresGrad)
        {
            mean.Dispose();
            rstd.Dispose();
            return y;
        }
        return Track(y, "layernorm", [x], (dy, sink) =>
        {
            var dx = Like(x);
            be.LayerNormBackward(dy, x, gamma, mean, rstd, dx);
            sink.Add(x, dx);
        });
    }

    /// <summary>Softmax over the last dimension; causalSeqLen &gt; 0 masks future positions (see IBackend).</summary>
    public static Tensor Softmax(Tensor x, int causalSeqLen = 0)
    {
        using var trace = Trace.Scope("softmax");
        var y = Like(x);
        x.Backend.SoftmaxForward(x, y, causalSeqLen);
        return Track(y, "softmax", [x], (dy, sink) =>
        {
            var dx = Like(x);
            x.Backend.SoftmaxBackward(y, dy, dx);
            sink.Add(x, dx);
        });
    }

    /// <summary>Each row divided by its L2 norm (clamped at 1e-12).</summary>
    public static Tensor L2Normalize(Tensor x)
    {
        using var trace = Trace.Scope("l2normalize");
        var be = x.Backend;
        var y = Like(x);
        var norms = Tensor.Empty(be, x.Rows);
        be.L2NormalizeForward(x, y, norms);
        if (!x.RequiresGrad)
        {
            norms.Dispose();
            return y;
        }
        return Track(y, "l2normalize", [x], (dy, sink) =>
        {
            var dx = Like(x);
            be.L2NormalizeBackward(y, norms, dy, dx);
            sink.Add(x, dx);
        });
    }

    /// <summary>Cosine similarity matrix [a.Rows, b.Rows] between the rows of a and the rows of b.</summary>
    public static Tensor CosineSimilarity(Tensor a, Tensor b)
    {
        if (a.Cols != b.Cols) throw new ArgumentException($"cosine_similarity: rows of {Shape.Format(a.Shape)} and {Shape.Format(b.Shape)} differ in length");
        return MatMul(L2Normalize(a), L2Normalize(b), transB: true);
    }
}
