using PromptAD.Tensors;
using K = PromptAD.Kernels.KernelCatalog;

namespace PromptAD.Kernels;

// Elementwise ops, activations and squared distances (elementwise.cu, gelu.cu).
public sealed partial class CudaBackend
{
    public void Axpby(float alpha, Tensor a, float beta, Tensor b, Tensor y)
    {
        Require.SameLength(a, b, "axpby", "a", "b");
        Require.SameLength(a, y, "axpby", "a", "y");
        int n = checked((int)y.Length);
        Launch(K.Elementwise.File, K.Elementwise.Axpby, Elements(n), Threads,
            new KernelArgs().Pointer(P(a, "axpby")).Pointer(P(b, "axpby")).Pointer(P(y, "axpby")).Float(alpha).Float(beta).Int(n));
    }

    public void AddBias(Tensor x, Tensor bias, Tensor y)
    {
        int cols = x.Cols, rows = x.Rows;
        Require.Length(bias, cols, "add_bias", "bias");
        Require.SameLength(x, y, "add_bias", "x", "y");
        Launch(K.Elementwise.File, K.Elementwise.BiasAdd, Elements(x.Length), Threads,
            new KernelArgs().Pointer(P(x, "add_bias")).Pointer(P(bias, "add_bias")).Pointer(P(y, "add_bias")).Int(rows).Int(cols));
    }

    public void GeluForward(Tensor x, Tensor y) => Unary(K.Gelu.File, K.Gelu.Forward, x, y);
    public void GeluBackward(Tensor x, Tensor dy, Tensor dx) => UnaryBackward(K.Gelu.File, K.Gelu.Backward, x, dy, dx);
    public void QuickGeluForward(Tensor x, Tensor y) => Unary(K.Gelu.File, K.Gelu.QuickForward, x, y);
    public void QuickGeluBackward(Tensor x, Tensor dy, Tensor dx) => UnaryBackward(K.Gelu.File, K.Gelu.QuickBackward, x, dy, dx);
    public void ReluForward(Tensor x, Tensor y) => Unary(K.Elementwise.File, K.Elementwise.ReluForward, x, y);
    public void ReluBackward(Tensor x, Tensor dy, Tensor dx) => UnaryBackward(K.Elementwise.File, K.Elementwise.ReluBackward, x, dy, dx);

    private void Unary(string file, string kernel, Tensor x, Tensor y)
    {
        Require.SameLength(x, y, kernel, "x", "y");
        int n = checked((int)x.Length);
        Launch(file, kernel, Elements(n), Threads, new KernelArgs().Pointer(P(x, kernel)).Pointer(P(y, kernel)).Int(n));
    }

    private void UnaryBackward(string file, string kernel, Tensor x, Tensor dy, Tensor dx)
    {
        Require.SameLength(x, dy, kernel, "x", "dy");
        Require.SameLength(x, dx, kernel, "x", "dx");
        int n = checked((int)x.Length);
        Launch(file, kernel, Elements(n), Threads, new KernelArgs().Pointer(P(x, kernel)).Pointer(P(dy, kernel)).Pointer(P(dx, kernel)).Int(n));
    }

    /// <summary>b's row stride for the sqdist kernels: one row broadcast (0) or row by row (cols).</summary>
    private static int BStride(Tensor a, Tensor b, string op)
    {
        int cols = a.Cols;
        if (b.Cols != cols) throw new ArgumentException($"{op}: b has {b.Cols} columns, a {cols}");
        if (b.Length == cols) return 0;
        if (b.Rows != a.Rows) throw new ArgumentException($"{op}: b has {b.Rows} rows, a {a.Rows} (or 1 to broadcast)");
        return cols;
    }

    public void SquaredDistanceForward(Tensor a, Tensor b, Tensor y)
    {
        const string op = "squared_distance_forward";
        int rows = a.Rows, cols = a.Cols, bStride = BStride(a, b, op);
        Require.Length(y, rows, op, "y");
        if (rows == 0) return;
        Launch(K.Elementwise.File, K.Elementwise.SqDistRowsForward, RowBlocks(rows), Threads,
            new KernelArgs().Pointer(P(a, op)).Pointer(P(b, op)).Pointer(P(y, op)).Int(rows).Int(cols).Int(bStride));
    }

    public void SquaredDistanceBackward(Tensor a, Tensor b, Tensor dy, Tensor da)
    {
        const string op = "squared_distance_backward";
        int rows = a.Rows, cols = a.Cols, bStride = BStride(a, b, op);
        Require.Length(dy, rows, op, "dy");
        Require.SameLength(a, da, op, "a", "da");
        Launch(K.Elementwise.File, K.Elementwise.SqDistRowsBackward, Elements(a.Length), Threads,
            new KernelArgs().Pointer(P(a, op)).Pointer(P(b, op)).Pointer(P(dy, op)).Pointer(P(da, op)).Pointer(0)
                .Int(rows).Int(cols).Int(bStride));
    }
}
