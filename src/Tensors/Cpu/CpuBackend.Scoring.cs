using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace PromptAD.Tensors.Cpu;

// Forward-only ops of the scoring stage: memory-bank nearest neighbour and bilinear upsampling.
public sealed unsafe partial class CpuBackend
{
    /// <summary>Bank rows per tile: query×tile similarities stay in cache, and memory stays O(tile).</summary>
    internal const int BankTile = 1024;

    public void NearestNeighbourForward(Tensor query, Tensor bank, Tensor y)
    {
        const string op = OpChecks.Names.NearestNeighbourForward;
        OpChecks.NearestNeighbourForward(query, bank, y);
        int nq = query.Rows, d = query.Cols, nb = bank.Rows;
        float* pq = P(query, op), pbank = P(bank, op), py = P(y, op);
        int tile = Math.Min(BankTile, nb);
        float* qn = (float*)NativeMemory.AlignedAlloc((nuint)((long)nq * d * sizeof(float)), 64);
        float* bn = (float*)NativeMemory.AlignedAlloc((nuint)((long)tile * d * sizeof(float)), 64);
        float* sim = (float*)NativeMemory.AlignedAlloc((nuint)((long)nq * tile * sizeof(float)), 64);
        float* best = (float*)NativeMemory.AlignedAlloc((nuint)(Math.Max(1, nq) * sizeof(float)), 64);
        try
        {
            NormalizeRows(pq, qn, nq, d);
            for (int i = 0; i < nq; i++) best[i] = float.NegativeInfinity;
            for (int t0 = 0; t0 < nb; t0 += tile)
            {
                int tn = Math.Min(tile, nb - t0);
                NormalizeRows(pbank + (long)t0 * d, bn, tn, d);
                CpuGemm.Sgemm(false, true, nq, tn, d, 1f, qn, d, bn, d, 0f, sim, tn);
                float* simLocal = sim, bestLocal = best;
                CpuParallel.For(nq, tn, (q0, q1) =>
                {
                    for (int q = q0; q < q1; q++) bestLocal[q] = MathF.Max(bestLocal[q], Simd.Max(simLocal + (long)q * tn, tn));
                });
            }
            // min (1 − cos)/2 is reached at the largest cosine.
            for (int i = 0; i < nq; i++) py[i] = (1f - best[i]) * 0.5f;
        }
        finally
        {
            NativeMemory.AlignedFree(qn);
            NativeMemory.AlignedFree(bn);
            NativeMemory.AlignedFree(sim);
            NativeMemory.AlignedFree(best);
        }
    }

    public void UpsampleBilinear(Tensor x, Tensor y)
    {
        const string op = OpChecks.Names.UpsampleBilinear;
        OpChecks.UpsampleBilinear(x, y);
        int ch = x.Dim(0), ih = x.Dim(1), iw = x.Dim(2), oh = y.Dim(1), ow = y.Dim(2);
        float* px = P(x, op), py = P(y, op);
        // The source columns and weights are the same for every output row: looked up once, not per pixel.
        var xs0 = new int[ow];
        var xs1 = new int[ow];
        var lxs = new float[ow];
        for (int ox = 0; ox < ow; ox++) BilinearSource(ox, iw, ow, out xs0[ox], out xs1[ox], out lxs[ox]);
        CpuParallel.For(ch * oh, 4L * ow, (r0, r1) =>
        {
            // A source row interpolated along x is the same for every output row made from it (about out/in of them):
            // the two an output row needs are kept, and the row itself is one SIMD lerp between them. Per pixel these
            // are the same float operations in the same order as interpolating it alone.
            var top = new float[ow];
            var bottom = new float[ow];
            int channel = -1, topRow = -1, bottomRow = -1;
            fixed (float* t = top, b = bottom)
            {
                for (int r = r0; r < r1; r++)
                {
                    int c = r / oh, oy = r % oh;
                    BilinearSource(oy, ih, oh, out int y0, out int y1, out float ly);
                    if (c != channel) (channel, topRow, bottomRow) = (c, -1, -1);
                    float* plane = px + (long)c * ih * iw;
                    if (y0 != topRow)
                    {
                        InterpolateRow(plane + (long)y0 * iw, xs0, xs1, lxs, t);
                        topRow = y0;
                    }
                    if (y1 != bottomRow)
                    {
                        InterpolateRow(plane + (long)y1 * iw, xs0, xs1, lxs, b);
                        bottomRow = y1;
                    }
                    Simd.Lerp(t, b, ly, py + ((long)c * oh + oy) * ow, ow);
                }
            }
        });
    }

    /// <summary>dst[ox] = row[x₀] + (row[x₁] − row[x₀])·λₓ for every output column.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // per output row: tier 0 would slow the first maps
    private static void InterpolateRow(float* row, int[] xs0, int[] xs1, float[] lxs, float* dst)
    {
        for (int ox = 0; ox < xs0.Length; ox++)
        {
            int x0 = xs0[ox], x1 = xs1[ox];
            dst[ox] = row[x0] + (row[x1] - row[x0]) * lxs[ox];
        }
    }

    /// <summary>PyTorch's align_corners = false source coordinate: (dst + 0.5)·in/out − 0.5, clamped at 0.</summary>
    internal static void BilinearSource(int dst, int inSize, int outSize, out int i0, out int i1, out float lambda)
    {
        float src = MathF.Max(0f, (dst + 0.5f) * inSize / outSize - 0.5f);
        i0 = Math.Min((int)src, inSize - 1);
        i1 = i0 < inSize - 1 ? i0 + 1 : i0;
        lambda = src - i0;
    }
}
