namespace PromptAD.Tensors.Cpu;

// Elementwise ops and activations: memory-bound, so one pass, split across cores for large tensors.
public sealed unsafe partial class CpuBackend
{
    private const int ElementChunk = 4096;

    /// <summary>Runs body(start, count) over [0, length) in cache-sized chunks, in parallel when large.</summary>
    private static void ForChunks(long length, Action<long, int> body)
    {
        int chunks = checked((int)((length + ElementChunk - 1) / ElementChunk));
        CpuParallel.For(chunks, ElementChunk, (c0, c1) =>
        {
            for (int c = c0; c < c1; c++)
            {
                long start = (long)c * ElementChunk;
                body(start, (int)Math.Min(ElementChunk, length - start));
            }
        });
    }

    public void Axpby(float alpha, Tensor a, float beta, Tensor b, Tensor y)
    {
        Require.SameLength(a, b, "axpby", "a", "b");
        Require.SameLength(a, y, "axpby", "a", "y");
        float* pa = P(a, "axpby"), pb = P(b, "axpby"), py = P(y, "axpby");
        ForChunks(a.Length, (s, n) => Simd.Axpby(alpha, pa + s, beta, pb + s, py + s, n));
    }

    public void AddBias(Tensor x, Tensor bias, Tensor y)
    {
        int cols = x.Cols;
        Require.Length(bias, cols, "add_bias", "bias");
        Require.SameLength(x, y, "add_bias", "x", "y");
        float* px = P(x, "add_bias"), pb = P(bias, "add_bias"), py = P(y, "add_bias");
        CpuParallel.For(x.Rows, cols, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
                Simd.Axpby(1f, px + (long)r * cols, 1f, pb, py + (long)r * cols, cols);
        });
    }

    private void Unary(Tensor x, Tensor y, string op, Func<float, float> f)
    {
        Require.SameLength(x, y, op, "x", "y");
        float* px = P(x, op), py = P(y, op);
        ForChunks(x.Length, (s, n) =>
        {
            for (long i = s; i < s + n; i++) py[i] = f(px[i]);
        });
    }

    private void UnaryBackward(Tensor x, Tensor dy, Tensor dx, string op, Func<float, float> derivative)
    {
        Require.SameLength(x, dy, op, "x", "dy");
        Require.SameLength(x, dx, op, "x", "dx");
        float* px = P(x, op), pdy = P(dy, op), pdx = P(dx, op);
        ForChunks(x.Length, (s, n) =>
        {
            for (long i = s; i < s + n; i++) pdx[i] = pdy[i] * derivative(px[i]);
        });
    }

    public void GeluForward(Tensor x, Tensor y) => Unary(x, y, "gelu_forward", CpuMath.Gelu);
    public void GeluBackward(Tensor x, Tensor dy, Tensor dx) => UnaryBackward(x, dy, dx, "gelu_backward", CpuMath.GeluGrad);
    public void QuickGeluForward(Tensor x, Tensor y) => Unary(x, y, "quickgelu_forward", CpuMath.QuickGelu);
    public void QuickGeluBackward(Tensor x, Tensor dy, Tensor dx) => UnaryBackward(x, dy, dx, "quickgelu_backward", CpuMath.QuickGeluGrad);
    public void ReluForward(Tensor x, Tensor y) => Unary(x, y, "relu_forward", static v => v > 0 ? v : 0f);
    public void ReluBackward(Tensor x, Tensor dy, Tensor dx) => UnaryBackward(x, dy, dx, "relu_backward", static v => v > 0 ? 1f : 0f);

    public void SquaredDistanceForward(Tensor a, Tensor b, Tensor y)
    {
        int rows = a.Rows, cols = a.Cols;
        bool broadcast = CheckDistanceOperands(a, b, "squared_distance_forward");
        Require.Length(y, rows, "squared_distance_forward", "y");
        float* pa = P(a, "squared_distance_forward"), pb = P(b, "squared_distance_forward"), py = P(y, "squared_distance_forward");
        CpuParallel.For(rows, cols, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                float* ar = pa + (long)r * cols, br = broadcast ? pb : pb + (long)r * cols;
                float s = 0;
                for (int c = 0; c < cols; c++) { float d = ar[c] - br[c]; s += d * d; }
                py[r] = s;
            }
        });
    }

    public void SquaredDistanceBackward(Tensor a, Tensor b, Tensor dy, Tensor da)
    {
        int rows = a.Rows, cols = a.Cols;
        bool broadcast = CheckDistanceOperands(a, b, "squared_distance_backward");
        Require.Length(dy, rows, "squared_distance_backward", "dy");
        Require.SameLength(a, da, "squared_distance_backward", "a", "da");
        float* pa = P(a, "squared_distance_backward"), pb = P(b, "squared_distance_backward");
        float* pdy = P(dy, "squared_distance_backward"), pda = P(da, "squared_distance_backward");
        CpuParallel.For(rows, cols, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                float* ar = pa + (long)r * cols, br = broadcast ? pb : pb + (long)r * cols, dr = pda + (long)r * cols;
                float g = 2f * pdy[r];
                for (int c = 0; c < cols; c++) dr[c] = g * (ar[c] - br[c]);
            }
        });
    }

    /// <summary>True when b is one row broadcast over a's rows.</summary>
    internal static bool CheckDistanceOperands(Tensor a, Tensor b, string op)
    {
        if (b.Cols != a.Cols || (b.Rows != a.Rows && b.Rows != 1))
            throw new ArgumentException($"{op}: b {Shape.Format(b.Shape)} must have a's {a.Cols} columns and {a.Rows} rows or one row");
        return b.Rows == 1 && a.Rows != 1;
    }
}
