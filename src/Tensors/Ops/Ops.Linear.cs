using PromptAD.Tensors.Autograd;

namespace PromptAD.Tensors;

// Matrix products. Tensors are taken as [rows, cols] matrices (cols = last dimension).
public static partial class Ops
{
    /// <summary>op(a)·op(b) where op transposes when asked; a and b are taken as matrices.</summary>
    public static Tensor MatMul(Tensor a, Tensor b, bool transA = false, bool transB = false)
    {
        using var trace = Trace.Scope("matmul");
        var be = SameBackend("matmul", a, b);
        int m = transA ? a.Cols : a.Rows, k = transA ? a.Rows : a.Cols;
        int kb = transB ? b.Cols : b.Rows, n = transB ? b.Rows : b.Cols;
        if (k != kb) throw new ArgumentException($"matmul: inner sizes differ, {Shape.Format(a.Shape)}{(transA ? "ᵀ" : "")} · {Shape.Format(b.Shape)}{(transB ? "ᵀ" : "")}");
        var c = Tensor.Empty(be, m, n);
        Gemm2D(be, transA, transB, m, n, k, 1f, a, b, 0f, c);
        return Track(c, "matmul", [a, b], (dc, sink) =>
        {
            if (sink.Wants(a))
            {
                var da = Like(a);
                if (!transA) Gemm2D(be, false, !transB, m, k, n, 1f, dc, b, 0f, da);
                else Gemm2D(be, transB, true, k, m, n, 1f, b, dc, 0f, da);
                sink.Add(a, da);
            }
            if (sink.Wants(b))
            {
                var db = Like(b);
                if (!transB) Gemm2D(be, !transA, false, k, n, m, 1f, a, dc, 0f, db);
                else Gemm2D(be, true, transA, n, k, m, 1f, dc, a, 0f, db);
                sink.Add(b, db);
            }
        });
    }

    /// <summary>
    /// A linear layer with PyTorch's weight layout: y = x·Wᵀ + bias, W [out, in]. The bias is written into y
    /// first and the GEMM accumulates onto it (beta = 1), saving a pass; the CPU writes it per tile, in cache.
    /// </summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias = null)
    {
        using var trace = Trace.Scope("linear");
        var be = LinearChecks("linear", x, weight, bias, out int rows, out int inF, out int outF);
        var y = Tensor.Empty(be, WithLastDim(x, outF));
        if (bias is null) Gemm2D(be, false, true, rows, outF, inF, 1f, x, weight, 0f, y);
        else using (FusedGemmTrace(rows, outF, inF)) be.LinearForward(x, weight, bias, y);
        Tensor[] inputs = bias is null ? [x, weight] : [x, weight, bias];
        return Track(y, "linear", inputs, (dy, sink) => LinearBackward(be, x, weight, bias, dy, sink));
    }

    /// <summary>The shape checks of a linear layer; gives its backend and sizes.</summary>
    private static IBackend LinearChecks(string op, Tensor x, Tensor weight, Tensor? bias, out int rows, out int inF, out int outF)
    {
        var be = SameBackend(op, bias is null ? [x, weight] : [x, weight, bias]);
        rows = x.Rows;
        inF = x.Cols;
        outF = weight.Rows;
        if (weight.Cols != inF) throw new ArgumentException($"{op}: weight {Shape.Format(weight.Shape)} does not take {inF} input features of x {Shape.Format(x.Shape)}");
        if (bias is not null) Require.Length(bias, outF, op, "bias");
        return be;
    }

    /// <summary>Gradients of y = x·Wᵀ + bias from dy, for the inputs that want one.</summary>
    private static void LinearBackward(IBackend be, Tensor x, Tensor weight, Tensor? bias, Tensor dy, GradSink sink)
    {
        int rows = x.Rows, inF = x.Cols, outF = weight.Rows;
        if (sink.Wants(x))
        {
            var dx = Like(x);
            Gemm2D(be, false, false, rows, inF, outF, 1f, dy, weight, 0f, dx);
            sink.Add(x, dx);
        }
        if (sink.Wants(weight))
        {
            var dw = Like(weight);
            Gemm2D(be, true, false, outF, inF, rows, 1f, dy, x, 0f, dw);
            sink.Add(weight, dw);
        }
        if (bias is not null && sink.Wants(bias))
        {
            var db = Like(bias);
            be.SumRows(dy, db, 1f);
            sink.Add(bias, db);
        }
    }

    /// <summary>One row-major GEMM over whole tensors with tight leading dimensions.</summary>
    private static void Gemm2D(IBackend be, bool transA, bool transB, int m, int n, int k, float alpha, Tensor a, Tensor b, float beta, Tensor c)
    {
        using var trace = Trace.Scope("gemm");
        Trace.Flops(2.0 * m * n * k);
        be.Gemm(transA, transB, m, n, k, alpha, a, 0, transA ? m : k, 0, b, 0, transB ? k : n, 0, beta, c, 0, n, 0, 1);
    }
}
