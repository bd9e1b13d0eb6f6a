using PromptAD.Tensors;
using PromptAD.Tensors.Cpu;
using K = PromptAD.Kernels.KernelCatalog;

namespace PromptAD.Kernels;

// Batched scoring ops (scoring.cu): a batch's nearest-neighbour distances, fused patch scores and blurred maps.
public sealed unsafe partial class CudaBackend
{
    public void RowMax(Tensor x, Tensor y, float scale, float shift)
    {
        const string op = OpChecks.Names.RowMax;
        OpChecks.RowMax(x, y);
        if (x.Rows == 0) return;
        Launch(K.Scoring.File, K.Scoring.RowMax, RowBlocks(x.Rows), Threads,
            new KernelArgs().Pointer(P(x, op)).Pointer(P(y, op)).Int(x.Rows).Int(x.Cols).Float(scale).Float(shift));
    }

    public void AnomalyFuse(Tensor sims, Tensor d1, Tensor d2, float logitScale, Tensor y)
    {
        const string op = OpChecks.Names.AnomalyFuse;
        OpChecks.AnomalyFuse(sims, d1, d2, y);
        int r = sims.Rows;
        if (r == 0) return;
        Launch(K.Scoring.File, K.Scoring.AnomalyFuse, Elements(r), Threads,
            new KernelArgs().Pointer(P(sims, op)).Pointer(P(d1, op)).Pointer(P(d2, op)).Pointer(P(y, op)).Int(r).Float(logitScale));
    }

    public void GaussianBlur(Tensor x, Tensor y, double sigma, double truncate)
    {
        const string op = OpChecks.Names.GaussianBlur;
        OpChecks.GaussianBlur(x, y, sigma, truncate);
        int c = x.Dim(0), h = x.Dim(1), w = x.Dim(2);
        if (x.Length == 0) return;
        // The half-kernel is normalized on the host in double, exactly as SciPy (and the CPU backend) does, and kept on
        // the device by content like index arrays (uploaded once, not per batch); the vertical pass goes to a float32
        // temporary, as SciPy rounds between its two passes.
        double[] weights = ScipyGaussian.Kernel(sigma, truncate);
        ulong pw = UploadIndices(System.Runtime.InteropServices.MemoryMarshal.Cast<double, int>(weights));
        using var buffer = Temp(x.Length);
        ulong vertical = buffer.Pointer;
        int radius = weights.Length - 1;
        Launch(K.Scoring.File, K.Scoring.BlurAxis, Elements(x.Length), Threads,
            new KernelArgs().Pointer(P(x, op)).Pointer(vertical).Pointer(pw).Int(c).Int(h).Int(w).Int(radius).Int(1));
        Launch(K.Scoring.File, K.Scoring.BlurAxis, Elements(x.Length), Threads,
            new KernelArgs().Pointer(vertical).Pointer(P(y, op)).Pointer(pw).Int(c).Int(h).Int(w).Int(radius).Int(0));
    }
}
