using PromptAD.Tensors;
using PromptAD.Tensors.Cpu;
using K = PromptAD.Kernels.KernelCatalog;

namespace PromptAD.Kernels;

// LayerNorm and L2 row normalization (layernorm.cu, normalize.cu): one block per row.
public sealed partial class CudaBackend
{
    public void LayerNormForward(Tensor x, Tensor gamma, Tensor beta, float eps, Tensor y, Tensor mean, Tensor rstd)
    {
        const string op = OpChecks.Names.LayerNormForward;
        OpChecks.LayerNormForward(x, gamma, beta, y, mean, rstd);
        int rows = x.Rows, cols = x.Cols;
        if (rows == 0) return;
        Launch(K.LayerNorm.File, K.LayerNorm.Forward, RowBlocks(rows), Threads,
            new KernelArgs().Pointer(P(x, op)).Pointer(P(gamma, op)).Pointer(P(beta, op)).Pointer(P(y, op))
                .Pointer(P(mean, op)).Pointer(P(rstd, op)).Int(rows).Int(cols).Float(eps));
    }

    public void LayerNormBackward(Tensor dy, Tensor x, Tensor gamma, Tensor mean, Tensor rstd, Tensor dx)
    {
        const string op = OpChecks.Names.LayerNormBackward;
        OpChecks.LayerNormBackward(dy, x, gamma, mean, rstd, dx);
        int rows = x.Rows, cols = x.Cols;
        if (rows == 0) return;
        Launch(K.LayerNorm.File, K.LayerNorm.Backward, RowBlocks(rows), Threads,
            new KernelArgs().Pointer(P(dy, op)).Pointer(P(x, op)).Pointer(P(gamma, op)).Pointer(P(mean, op))
                .Pointer(P(rstd, op)).Pointer(P(dx, op)).Int(rows).Int(cols));
    }

    public void L2NormalizeForward(Tensor x, Tensor y, Tensor norms)
    {
        const string op = OpChecks.Names.L2NormalizeForward;
        OpChecks.L2NormalizeForward(x, y, norms);
        int rows = x.Rows, cols = x.Cols;
        if (rows == 0) return;
        Launch(K.Normalize.File, K.Normalize.L2Forward, RowBlocks(rows), Threads,
            new KernelArgs().Pointer(P(x, op)).Pointer(P(y, op)).Pointer(P(norms, op)).Int(rows).Int(cols).Float(CpuBackend.L2Epsilon));
    }

    public void L2NormalizeBackward(Tensor y, Tensor norms, Tensor dy, Tensor dx)
    {
        const string op = OpChecks.Names.L2NormalizeBackward;
        OpChecks.L2NormalizeBackward(y, norms, dy, dx);
        int rows = y.Rows, cols = y.Cols;
        if (rows == 0) return;
        Launch(K.Normalize.File, K.Normalize.L2Backward, RowBlocks(rows), Threads,
            new KernelArgs().Pointer(P(dy, op)).Pointer(P(y, op)).Pointer(P(norms, op)).Pointer(P(dx, op)).Int(rows).Int(cols));
    }
}
