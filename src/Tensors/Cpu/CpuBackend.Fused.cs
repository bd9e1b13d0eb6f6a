namespace PromptAD.Tensors.Cpu;

// A linear layer's epilogues after a GEMM without bias: bias + activation (keeping the pre-activation) and bias +
// residual, one pass over the rows. The arithmetic is that of the unfused ops (h + bias, then the same vector
// activation; residual + (h + bias)), so a bias folded into the GEMM's accumulator gave the same numbers whenever
// the GEMM's inner size fits one of its k blocks. The whole linear layers (LinearGeluForward, LinearResidualForward)
// run the same epilogues per tile inside the GEMM (GemmEpilogue): the same numbers, without the extra pass; and a plain
// linear layer (LinearForward) seeds each tile with the bias instead of broadcasting it over the output first.
public sealed unsafe partial class CpuBackend
{
    public void LinearForward(Tensor x, Tensor weight, Tensor bias, Tensor y)
    {
        const string op = OpChecks.Names.LinearForward;
        OpChecks.LinearForward(x, weight, bias, y);
        int n = weight.Rows;
        CpuGemm.Sgemm(false, true, x.Rows, n, x.Cols, 1f, P(x, op), x.Cols, P(weight, op), weight.Cols, 0f, P(y, op), n,
            GemmEpilogue.BiasFirst(P(bias, op)));
    }

    public void LinearGeluForward(Tensor x, Tensor weight, Tensor bias, bool quick, Tensor pre, Tensor y)
    {
        OpChecks.LinearGeluForward(x, weight, bias, pre, y, quick);
        string op = quick ? OpChecks.Names.LinearQuickGeluForward : OpChecks.Names.LinearGeluForward;
        int n = weight.Rows;
        var epilogue = GemmEpilogue.BiasActivation(quick, P(bias, op), P(y, op), n);
        CpuGemm.Sgemm(false, true, x.Rows, n, x.Cols, 1f, P(x, op), x.Cols, P(weight, op), weight.Cols, 0f, P(pre, op), n, epilogue);
    }

    public void LinearResidualForward(Tensor x, Tensor weight, Tensor bias, Tensor residual, Tensor? below, Tensor y)
    {
        const string op = OpChecks.Names.LinearResidualForward;
        OpChecks.LinearResidualForward(x, weight, bias, residual, below, y);
        int n = weight.Rows;
        float* py = P(y, op);
        var epilogue = GemmEpilogue.BiasResidual(P(bias, op), P(residual, op), below is null ? null : P(below, op), residual.Rows, py, n);
        CpuGemm.Sgemm(false, true, x.Rows, n, x.Cols, 1f, P(x, op), x.Cols, P(weight, op), weight.Cols, 0f, py, n, epilogue);
    }

    public void BiasGeluForward(Tensor h, Tensor bias, Tensor pre, Tensor y) =>
        BiasActivation<GeluActivation>(h, bias, pre, y, OpChecks.Names.BiasGeluForward);

    public void BiasQuickGeluForward(Tensor h, Tensor bias, Tensor pre, Tensor y) =>
        BiasActivation<QuickGeluActivation>(h, bias, pre, y, OpChecks.Names.BiasQuickGeluForward);

    private void BiasActivation<T>(Tensor h, Tensor bias, Tensor pre, Tensor y, string op) where T : IActivation
    {
        OpChecks.BiasActivationForward(h, bias, pre, y, op);
        int cols = h.Cols;
        float* ph = P(h, op), pb = P(bias, op), ppre = P(pre, op), py = P(y, op);
        CpuParallel.For(h.Rows, cols, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                long o = (long)r * cols;
                Simd.Axpby(1f, ph + o, 1f, pb, ppre + o, cols);
                ActivationLoops.Forward<T>(ppre + o, py + o, cols);
            }
        });
    }

    public void BiasResidualForward(Tensor h, Tensor bias, Tensor residual, Tensor y)
    {
        const string op = OpChecks.Names.BiasResidualForward;
        OpChecks.BiasResidualForward(h, bias, residual, y);
        int cols = h.Cols;
        float* ph = P(h, op), pb = P(bias, op), pr = P(residual, op), py = P(y, op);
        CpuParallel.For(h.Rows, cols, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                long o = (long)r * cols;
                Simd.AddSum(pr + o, ph + o, pb, py + o, cols);
            }
        });
    }
}
