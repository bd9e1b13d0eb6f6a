using PromptAD.Tensors;
using K = PromptAD.Kernels.KernelCatalog;

namespace PromptAD.Kernels;

// A linear layer's epilogues after a GEMM without bias (gelu.cu, elementwise.cu): one launch where the unfused
// composition took a bias broadcast, the GEMM accumulating onto it, and an activation or residual add.
public sealed partial class CudaBackend
{
    public void BiasGeluForward(Tensor h, Tensor bias, Tensor pre, Tensor y) =>
        BiasActivation(K.Gelu.BiasForward, h, bias, pre, y, OpChecks.Names.BiasGeluForward);

    public void BiasQuickGeluForward(Tensor h, Tensor bias, Tensor pre, Tensor y) =>
        BiasActivation(K.Gelu.BiasQuickForward, h, bias, pre, y, OpChecks.Names.BiasQuickGeluForward);

    private void BiasActivation(string kernel, Tensor h, Tensor bias, Tensor pre, Tensor y, string op)
    {
        OpChecks.BiasActivationForward(h, bias, pre, y, op);
        if (h.Length == 0) return;
        Launch(K.Gelu.File, kernel, Elements(h.Length), Threads,
            new KernelArgs().Pointer(P(h, op)).Pointer(P(bias, op)).Pointer(P(pre, op)).Pointer(P(y, op)).Int(h.Rows).Int(h.Cols));
    }

    public void BiasResidualForward(Tensor h, Tensor bias, Tensor residual, Tensor y)
    {
        const string op = OpChecks.Names.BiasResidualForward;
        OpChecks.BiasResidualForward(h, bias, residual, y);
        if (h.Length == 0) return;
        Launch(K.Elementwise.File, K.Elementwise.BiasResidualForward, Elements(h.Length), Threads,
            new KernelArgs().Pointer(P(h, op)).Pointer(P(bias, op)).Pointer(P(residual, op)).Pointer(P(y, op)).Int(h.Rows).Int(h.Cols));
    }
}
