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
        const string op = OpChecks.Names.Axpby;
        OpChecks.Axpby(a, b, y);
        float* pa = P(a, op), pb = P(b, op), py = P(y, op);
        ForChunks(a.Length, (s, n) => Simd.Axpby(alpha, pa + s, beta, pb + s, py + s, n));
    }

    public void AddBias(Tensor x, Tensor bias, Tensor y)
    {
        const string op = OpChecks.Names.AddBias;
        OpChecks.AddBias(x, bias, y);
        int cols = x.Cols;
        float* px = P(x, op), pb = P(bias, op), py = P(y, op);
        CpuParallel.For(x.Rows, cols, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
                Simd.Axpby(1f, px + (long)r * cols, 1f, pb, py + (long)r * cols, cols);
        });
    }

    private void Unary<T>(Tensor x, Tensor y, string op) where T : IActivation
    {
        OpChecks.Unary(x, y, op);
        float* px = P(x, op), py = P(y, op);
        ForChunks(x.Length, (s, n) => ActivationLoops.Forward<T>(px + s, py + s, n));
    }

    private void UnaryBackward<T>(Tensor x, Tensor dy, Tensor dx, string op) where T : IActivation
    {
        OpChecks.UnaryBackward(x, dy, dx, op);
        float* px = P(x, op), pdy = P(dy, op), pdx = P(dx, op);
        ForChunks(x.Length, (s, n) => ActivationLoops.Backward<T>(px + s, pdy + s, pdx + s, n));
    }

    public void GeluForward(Tensor x, Tensor y) => Unary<GeluActivation>(x, y, OpChecks.Names.GeluForward);
    public void GeluBackward(Tensor x, Tensor dy, Tensor dx) => UnaryBackward<GeluActivation>(x, dy, dx, OpChecks.Names.GeluBackward);
    public void QuickGeluForward(Tensor x, Tensor y) => Unary<QuickGeluActivation>(x, y, OpChecks.Names.QuickGeluForward);
    public void QuickGeluBackward(Tensor x, Tensor dy, Tensor dx) => UnaryBackward<QuickGeluActivation>(x, dy, dx, OpChecks.Names.QuickGeluBackward);
    public void ReluForward(Tensor x, Tensor y) => Unary<ReluActivation>(x, y, OpChecks.Names.ReluForward);
    public void ReluBackward(Tensor x, Tensor dy, Tensor dx) => UnaryBackward<ReluActivation>(x, dy, dx, OpChecks.Names.ReluBackward);

    public void SquaredDistanceForward(Tensor a, Tensor b, Tensor y)
    {
        const string op = OpChecks.Names.SquaredDistanceForward;
        bool broadcast = OpChecks.SquaredDistanceForward(a, b, y);
        int rows = a.Rows, cols = a.Cols;
        float* pa = P(a, op), pb = P(b, op), py = P(y, op);
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
        const string op = OpChecks.Names.SquaredDistanceBackward;
        bool broadcast = OpChecks.SquaredDistanceBackward(a, b, dy, da);
        int rows = a.Rows, cols = a.Cols;
        float* pa = P(a, op), pb = P(b, op), pdy = P(dy, op), pda = P(da, op);
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
}
