namespace PromptAD.Tensors;

// A linear layer fused with what follows it in a transformer block: the GEMM writes x·Wᵀ without its bias and one
// epilogue pass adds the bias and applies the activation (keeping the pre-activation for the backward) or adds the
// residual. The unfused composition (Linear, then Gelu or Add) costs a bias broadcast and one more pass each.
public static partial class Ops
{
    [ThreadStatic] private static bool t_unfused;

    /// <summary>
    /// Until disposed, the fused ops called on this thread run as their unfused compositions (Linear then Gelu or Add,
    /// attention through stored scores): the baseline the fusion is checked and measured against.
    /// </summary>
    public static IDisposable WithoutFusion()
    {
        bool previous = t_unfused;
        t_unfused = true;
        return new FusionRestore(previous);
    }

    private sealed class FusionRestore(bool previous) : IDisposable
    {
        public void Dispose() => t_unfused = previous;
    }

    /// <summary>gelu(x·Wᵀ + bias) (QuickGELU when <paramref name="quick"/>), as one GEMM and one epilogue.</summary>
    public static Tensor LinearGelu(Tensor x, Tensor weight, Tensor bias, bool quick = false)
    {
        if (t_unfused)
        {
            var linear = Linear(x, weight, bias);
            return quick ? QuickGelu(linear) : Gelu(linear);
        }
        string op = quick ? "linear_quickgelu" : "linear_gelu";
        using var trace = Trace.Scope(op);
        var be = LinearChecks(op, x, weight, bias, out int rows, out int inF, out int outF);
        var pre = Tensor.Empty(be, WithLastDim(x, outF));
        // The epilogue turns the GEMM's output into the pre-activation in place; without a backward nothing keeps the
        // pre-activation, so the activation overwrites it too (one buffer and one stream of writes fewer).
        bool backward = AnyRequiresGrad([x, weight, bias]);
        var y = backward ? Like(pre) : pre;
        using (FusedGemmTrace(rows, outF, inF)) be.LinearGeluForward(x, weight, bias, quick, pre, y);
        if (!backward) return y;
        return Track(y, op, [x, weight, bias], (dy, sink) =>
        {
            // dpre = dy·act'(pre) in one pass; the bias gradient (a column sum) only when the bias wants one.
            var dpre = Like(pre);
            if (quick) be.QuickGeluBackward(pre, dy, dpre);
            else be.GeluBackward(pre, dy, dpre);
            LinearBackward(be, x, weight, bias, dpre, sink);
            dpre.Dispose();
        });
    }

    /// <summary>residual + (x·Wᵀ + bias), as one GEMM and one epilogue (the residual has the output's shape).</summary>
    public static Tensor LinearResidual(Tensor x, Tensor weight, Tensor bias, Tensor residual)
    {
        if (t_unfused) return Add(residual, Linear(x, weight, bias));
        const string op = "linear_residual";
        using var trace = Trace.Scope(op);
        var be = LinearChecks(op, x, weight, bias, out int rows, out int inF, out int outF);
        SameBackend(op, x, residual);
        var y = Tensor.Empty(be, WithLastDim(x, outF));
        if (!Shape.Equal(residual.Shape, y.Shape))
        {
            y.Dispose();
            throw new ArgumentException($"{op}: residual {Shape.Format(residual.Shape)} differs from the layer's output {Shape.Format(WithLastDim(x, outF))}");
        }
        using (FusedGemmTrace(rows, outF, inF)) be.LinearResidualForward(x, weight, bias, residual, null, y);
        return Track(y, op, [x, weight, bias, residual], (dy, sink) =>
        {
            ScaledGrad(sink, residual, dy, 1f);
            LinearBackward(be, x, weight, bias, dy, sink);
        });
    }

    /// <summary>
    /// A linear layer run once over two inputs stacked by rows, each with its own residual: rows [0, top.Rows) are
    /// top + (x·Wᵀ + bias), the rest below + (x·Wᵀ + bias). One GEMM over all the rows instead of one per input (CLIP
    /// Surgery's out_proj after both attentions of a block). Forward only.
    /// </summary>
    public static Tensor LinearResidualStacked(Tensor x, Tensor weight, Tensor bias, Tensor top, Tensor below)
    {
        if (t_unfused) return Add(ConcatRows(top, below), Linear(x, weight, bias));
        const string op = "linear_residual";
        using var trace = Trace.Scope(op);
        var be = LinearChecks(op, x, weight, bias, out int rows, out int inF, out int outF);
        SameBackend(op, x, top, below);
        NoGrad(op, x, weight, bias, top, below);
        var y = Tensor.Empty(be, rows, outF);
        using (FusedGemmTrace(rows, outF, inF)) be.LinearResidualForward(x, weight, bias, top, below, y);
        return y;
    }

    // The GEMM of a fused linear layer, traced as a GEMM: its epilogue may run inside the GEMM's tiles (the CPU's).
    private static Trace.Range FusedGemmTrace(int rows, int outF, int inF)
    {
        var range = Trace.Scope("gemm");
        Trace.Flops(2.0 * rows * outF * inF);
        return range;
    }
}
