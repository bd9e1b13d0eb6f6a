using PromptAD.Tensors;
using PromptAD.Tensors.Cpu;
using K = PromptAD.Kernels.KernelCatalog;

namespace PromptAD.Kernels;

// Forward-only scoring ops (nearest.cu, upsample.cu).
public sealed partial class CudaBackend
{
    /// <summary>Bank chunks scanned in parallel by nearest_partial (the grid's y extent).</summary>
    private const int NearestChunks = 64;

    public void NearestNeighbourForward(Tensor query, Tensor bank, Tensor y)
    {
        const string op = OpChecks.Names.NearestNeighbourForward;
        OpChecks.NearestNeighbourForward(query, bank, y);
        int nq = query.Rows, d = query.Cols, nb = bank.Rows;
        if (nq == 0) return;
        // The kernel wants unit rows, and the op normalizes its inputs itself. The normalized bank is one temporary
        // copy (the kernel's own tiling keeps any query×bank matrix off the device).
        int chunkRows = (int)Math.Min(int.MaxValue, ((long)nb + NearestChunks - 1) / NearestChunks);
        chunkRows = (chunkRows + K.Nearest.BankTile - 1) / K.Nearest.BankTile * K.Nearest.BankTile;
        int chunks = (nb + chunkRows - 1) / chunkRows;
        using var buffer = Temps((long)nq * d, (long)nb * d, (long)chunks * nq, (long)chunks * nq);
        ulong qn = buffer[0], bn = buffer[1], bestDot = buffer[2], bestIdx = buffer[3];
        Normalize(P(query, op), qn, nq, d);
        Normalize(P(bank, op), bn, nb, d);
        Launch(K.Nearest.File, K.Nearest.Partial, new Dim3((uint)((nq + K.Nearest.QueryTile - 1) / K.Nearest.QueryTile), (uint)chunks),
            new Dim3(16, 16), new KernelArgs().Pointer(qn).Pointer(bn).Pointer(bestDot).Pointer(bestIdx).Int(nq).Int(nb).Int(d).Int(chunkRows));
        Launch(K.Nearest.File, K.Nearest.Reduce, Elements(nq), Threads,
            new KernelArgs().Pointer(bestDot).Pointer(bestIdx).Int(chunks).Int(nq).Pointer(P(y, op)).Pointer(0));
    }

    private void Normalize(ulong x, ulong y, int rows, int cols) =>
        Launch(K.Normalize.File, K.Normalize.L2Forward, RowBlocks(rows), Threads,
            new KernelArgs().Pointer(x).Pointer(y).Pointer(0).Int(rows).Int(cols).Float(CpuBackend.L2Epsilon));

    public void UpsampleBilinear(Tensor x, Tensor y)
    {
        const string op = OpChecks.Names.UpsampleBilinear;
        OpChecks.UpsampleBilinear(x, y);
        int ch = x.Dim(0), ih = x.Dim(1), iw = x.Dim(2), oh = y.Dim(1), ow = y.Dim(2);
        if (y.Length == 0) return;
        Launch(K.Upsample.File, K.Upsample.Bilinear, Elements(y.Length), Threads,
            new KernelArgs().Pointer(P(x, op)).Pointer(P(y, op)).Int(ch).Int(ih).Int(iw).Int(oh).Int(ow));
    }
}
