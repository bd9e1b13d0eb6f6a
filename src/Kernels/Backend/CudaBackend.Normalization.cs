using PromptAD.Tensors;
using PromptAD.Tensors.Cpu;
using K = PromptAD.Kernels.KernelCatalog;

namespace PromptAD.Kernels;

// LayerNorm and L2 row normalization (layernorm.cu, normalize.cu): one block per row.
public sealed partial class CudaBackend
{
    public void LayerNormForward(Tensor x, Tensor gamma, Tensor beta, float eps, Tensor y, Tensor mean, Tensor rstd)
    {
        const string op = "layernorm_forward";
        int rows = x.Rows, cols = x.Cols;
        Require.Length(gamma, cols, op, "gamma");
        Require.Length(beta, cols, op, "beta");
        Require.SameLength(x, y, op, "x", "y");
        Require.Length(mean, rows, op, "mean");
        Require.Length(rstd, rows, op, "rstd");
        if (rows == 0) return;
        Launch(K.LayerNorm.File, K.LayerNorm.Forward, RowBlocks(rows), Threads,
            new KernelArgs().Pointer(P(x, op)).Pointer(P(gamma, op)).Pointer(P(beta, op)).Pointer(P(y, op))
                .Pointer(P(mean, op)).Pointer(P(rstd, op)).Int(rows).Int(cols).Float(eps));
    }

    public void LayerNormBackward(Tensor dy, Tensor x, Tensor gamma, Tensor mean, Tensor rstd, Tensor dx)
    {
        const string op = "layernorm_backward";
        int rows = x.Rows, cols = x.Cols;
        Require.SameLength(x, dy, op, "x", "dy");
        Require.SameLength(x, dx, op, "x", "dx");
        Require.Length(gamma, cols, op, "gamma");
        Require.Length(mean, rows, op, "mean");
        Require.Length(rstd, rows, op, "rstd");
        if (rows == 0) return;
        Launch(K.LayerNorm.File, K.LayerNorm.Backward, RowBlocks(rows), Threads,
            new KernelArgs().Pointer(P(dy, op)).Pointer(P(x, op)).Pointer(P(gamma, op)).Pointer(P(mean, op))
                .Pointer(P(rstd, op)).Pointer(P(dx, op)).Int(rows).Int(cols));
    }

    public void L2NormalizeForward(Tensor x, Tensor y, Tensor norms)
    {
        const string op = "l2normalize_forward";
        int rows = x.Rows, cols = x.Cols;
        Require.SameLength(x, y, op, "x", "y");
        Require.Length(norms, rows, op, "norms");
        if (rows == 0) return;
        Launch(K.Normalize.File, K.Normalize.L2Forward, RowBlocks(rows), Threads,
            new KernelArgs().Pointer(P(x, op)).Pointer(P(y, op)).Pointer(P(norms, op)).Int(rows).Int(cols).Float(CpuBackend.L2Epsilon));
    }

    public void L2NormalizeBackward(Tensor y, Tensor norms, Tensor dy, Tensor dx)
    {
        const string op = "l2normalize_backward";
        int rows = y.Rows, cols = y.Cols;
        Require.SameLength(y, dy, op, "y", "dy");
        Require.SameLength(y, dx, op, "y", "dx");
        Require.Length(norms, rows, op, "norms");
        if (rows == 0) return;
        Launch(K.Normalize.File, K.Normalize.L2Backward, RowBlocks(rows), Threads,
            new KernelArgs().Pointer(P(dy, op)).Pointer(P(y, op)).Pointer(P(norms, op)).Pointer(P(dx, op)).Int(rows).Int(cols));
    }
}
