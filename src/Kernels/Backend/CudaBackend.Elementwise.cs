using PromptAD.Tensors;
using K = PromptAD.Kernels.KernelCatalog;

namespace PromptAD.Kernels;

// Elementwise ops, activations and squared distances (elementwise.cu, gelu.cu).
public sealed partial class CudaBackend
{
    public void Axpby(float alpha, Tensor a, float beta, Tensor b, Tensor y)
    {
        const string op = OpChecks.Names.Axpby;
        OpChecks.Axpby(a, b, y);
        int n = checked((int)y.Length);
        Launch(K.Elementwise.File, K.Elementwise.Axpby, Elements(n), Threads,
            new KernelArgs().Pointer(P(a, op)).Pointer(P(b, op)).Pointer(P(y, op)).Float(alpha).Float(beta).Int(n));
    }

    public void AddBias(Tensor x, Tensor bias, Tensor y)
    {
        const string op = OpChecks.Names.AddBias;
        OpChecks.AddBias(x, bias, y);
        Launch(K.Elementwise.File, K.Elementwise.BiasAdd, Elements(x.Length), Threads,
            new KernelArgs().Pointer(P(x, op)).Pointer(P(bias, op)).Pointer(P(y, op)).Int(x.Rows).Int(x.Cols));
    }

    public void GeluForward(Tensor x, Tensor y) => Unary(K.Gelu.File, K.Gelu.Forward, x, y);
    public void GeluBackward(Tensor x, Tensor dy, Tensor dx) => UnaryBackward(K.Gelu.File, K.Gelu.Backward, x, dy, dx);
    public void QuickGeluForward(Tensor x, Tensor y) => Unary(K.Gelu.File, K.Gelu.QuickForward, x, y);
    public void QuickGeluBackward(Tensor x, Tensor dy, Tensor dx) => UnaryBackward(K.Gelu.File, K.Gelu.QuickBackward, x, dy, dx);
    public void ReluForward(Tensor x, Tensor y) => Unary(K.Elementwise.File, K.Elementwise.ReluForward, x, y);
    public void ReluBackward(Tensor x, Tensor dy, Tensor dx) => UnaryBackward(K.Elementwise.File, K.Elementwise.ReluBackward, x, dy, dx);

    private void Unary(string file, string kernel, Tensor x, Tensor y)
    {
        OpChecks.Unary(x, y, kernel);
        int n = checked((int)x.Length);
        Launch(file, kernel, Elements(n), Threads, new KernelArgs().Pointer(P(x, kernel)).Pointer(P(y, kernel)).Int(n));
    }

    private void UnaryBackward(string file, string kernel, Tensor x, Tensor dy, Tensor dx)
    {
        OpChecks.UnaryBackward(x, dy, dx, kernel);
        int n = checked((int)x.Length);
        Launch(file, kernel, Elements(n), Threads, new KernelArgs().Pointer(P(x, kernel)).Pointer(P(dy, kernel)).Pointer(P(dx, kernel)).Int(n));
    }

    public void SquaredDistanceForward(Tensor a, Tensor b, Tensor y)
    {
        const string op = OpChecks.Names.SquaredDistanceForward;
        bool broadcast = OpChecks.SquaredDistanceForward(a, b, y);
        // b's row stride for the sqdist kernels: one row broadcast (0) or row by row (cols).
        int rows = a.Rows, cols = a.Cols, bStride = broadcast ? 0 : cols;
        if (rows == 0) return;
        Launch(K.Elementwise.File, K.Elementwise.SqDistRowsForward, RowBlocks(rows), Threads,
            new KernelArgs().Pointer(P(a, op)).Pointer(P(b, op)).Pointer(P(y, op)).Int(rows).Int(cols).Int(bStride));
    }

    public void SquaredDistanceBackward(Tensor a, Tensor b, Tensor dy, Tensor da)
    {
        const string op = OpChecks.Names.SquaredDistanceBackward;
        bool broadcast = OpChecks.SquaredDistanceBackward(a, b, dy, da);
        int rows = a.Rows, cols = a.Cols, bStride = broadcast ? 0 : cols;
        Launch(K.Elementwise.File, K.Elementwise.SqDistRowsBackward, Elements(a.Length), Threads,
            new KernelArgs().Pointer(P(a, op)).Pointer(P(b, op)).Pointer(P(dy, op)).Pointer(P(da, op)).Pointer(0)
                .Int(rows).Int(cols).Int(bStride));
    }
}
