using PromptAD.Tensors;
using K = PromptAD.Kernels.KernelCatalog;

namespace PromptAD.Kernels;

// Multi-head attention on packed qkv [batch·seq, 3·width] (attention.cu): q/k/v are split into head-major
// [batch·heads, seq, headDim] temporaries so every GEMM is one strided-batched call over all batch·heads.
public sealed partial class CudaBackend
{
    private const int AttentionSoftmaxThreads = 128;

    private void LayoutKernel(string kernel, int batch, int seq, int heads, int headDim, KernelArgs pointers) =>
        Launch(K.Attention.File, kernel, Elements((long)batch * seq * heads * headDim), Threads,
            pointers.Int(batch).Int(seq).Int(heads).Int(headDim));

    private void AttentionSoftmax(ulong scores, int rows, int seq, float scale, bool causal) =>
        Launch(K.Attention.File, K.Attention.SoftmaxForward, RowBlocks(rows), AttentionSoftmaxThreads,
            new KernelArgs().Pointer(scores).Int(rows).Int(seq).Float(scale).Int(causal ? 1 : 0));

    public void AttentionForward(Tensor qkv, int batch, int seq, int heads, bool causal, Tensor output, Tensor probs)
    {
        const string op = OpChecks.Names.AttentionForward;
        OpChecks.AttentionForward(qkv, batch, seq, heads, output, probs, out _, out int hd);
        int bh = batch * heads;
        long td = (long)seq * hd, tt = (long)seq * seq, n = (long)bh * td;
        using var buffer = Temps(n, n, n, n);
        ulong q = buffer[0], k = buffer[1], v = buffer[2], o = buffer[3], p = P(probs, op);
        LayoutKernel(K.Attention.QkvSplitHeads, batch, seq, heads, hd, new KernelArgs().Pointer(P(qkv, op)).Pointer(q).Pointer(k).Pointer(v));
        DeviceGemm(false, true, seq, seq, hd, 1f, q, hd, td, k, hd, td, 0f, p, seq, tt, bh);
        AttentionSoftmax(p, bh * seq, seq, 1f / MathF.Sqrt(hd), causal);
        DeviceGemm(false, false, seq, hd, seq, 1f, p, seq, tt, v, hd, td, 0f, o, hd, td, bh);
        LayoutKernel(K.Attention.MergeHeads, batch, seq, heads, hd, new KernelArgs().Pointer(o).Pointer(P(output, op)));
    }

    public void AttentionBackward(Tensor qkv, Tensor probs, Tensor dOutput, int batch, int seq, int heads, Tensor dqkv)
    {
        const string op = OpChecks.Names.AttentionBackward;
        OpChecks.AttentionBackward(qkv, probs, dOutput, batch, seq, heads, dqkv, out _, out int hd);
        int bh = batch * heads;
        long td = (long)seq * hd, tt = (long)seq * seq, n = (long)bh * td;
        using var buffer = Temps(n, n, n, n, n, n, n, bh * tt);
        ulong q = buffer[0], k = buffer[1], v = buffer[2], dO = buffer[3];
        ulong dq = buffer[4], dk = buffer[5], dv = buffer[6], ds = buffer[7], p = P(probs, op);
        float scale = 1f / MathF.Sqrt(hd);
        LayoutKernel(K.Attention.QkvSplitHeads, batch, seq, heads, hd, new KernelArgs().Pointer(P(qkv, op)).Pointer(q).Pointer(k).Pointer(v));
        LayoutKernel(K.Attention.SplitHeads, batch, seq, heads, hd, new KernelArgs().Pointer(P(dOutput, op)).Pointer(dO));
        // dV = Pᵀ dO ; dP = dO Vᵀ ; dS = scale·softmax'(dP) ; dQ = dS K ; dK = dSᵀ Q.
        DeviceGemm(true, false, seq, hd, seq, 1f, p, seq, tt, dO, hd, td, 0f, dv, hd, td, bh);
        DeviceGemm(false, true, seq, seq, hd, 1f, dO, hd, td, v, hd, td, 0f, ds, seq, tt, bh);
        Launch(K.Attention.File, K.Attention.SoftmaxBackward, RowBlocks(bh * seq), AttentionSoftmaxThreads,
            new KernelArgs().Pointer(p).Pointer(ds).Int(bh * seq).Int(seq).Float(scale));
        DeviceGemm(false, false, seq, hd, seq, 1f, ds, seq, tt, k, hd, td, 0f, dq, hd, td, bh);
        DeviceGemm(true, false, seq, hd, seq, 1f, ds, seq, tt, q, hd, td, 0f, dk, hd, td, bh);
        LayoutKernel(K.Attention.QkvMergeHeadsBackward, batch, seq, heads, hd,
            new KernelArgs().Pointer(dq).Pointer(dk).Pointer(dv).Pointer(P(dqkv, op)));
    }

    public void VVAttentionForward(Tensor qkv, int batch, int seq, int heads, Tensor output)
    {
        const string op = OpChecks.Names.VVAttentionForward;
        OpChecks.VVAttentionForward(qkv, batch, seq, heads, output, out int w, out int hd);
        float scale = 1f / MathF.Sqrt(hd);
        if (hd == K.Attention.VvHeadDim)
        {
            // The fused kernel streams keys with an online softmax: no [seq, seq] scores are stored.
            var grid = new Dim3((uint)((seq + K.Attention.VvQueryRowsPerBlock - 1) / K.Attention.VvQueryRowsPerBlock), (uint)heads, (uint)batch);
            Launch(K.Attention.File, K.Attention.VvForward, grid, (uint)K.Attention.VvBlockThreads,
                new KernelArgs().Pointer(P(qkv, op) + 2UL * (ulong)w * sizeof(float)).Int(3 * w).Pointer(P(output, op)).Int(w)
                    .Int(batch).Int(seq).Int(heads).Float(scale));
            return;
        }
        int bh = batch * heads;
        long td = (long)seq * hd, tt = (long)seq * seq, n = (long)bh * td;
        using var buffer = Temps(n, n, n, n, bh * tt);
        ulong q = buffer[0], k = buffer[1], v = buffer[2], o = buffer[3], s = buffer[4];
        LayoutKernel(K.Attention.QkvSplitHeads, batch, seq, heads, hd, new KernelArgs().Pointer(P(qkv, op)).Pointer(q).Pointer(k).Pointer(v));
        DeviceGemm(false, true, seq, seq, hd, 1f, v, hd, td, v, hd, td, 0f, s, seq, tt, bh);
        AttentionSoftmax(s, bh * seq, seq, scale, causal: false);
        DeviceGemm(false, false, seq, hd, seq, 1f, s, seq, tt, v, hd, td, 0f, o, hd, td, bh);
        LayoutKernel(K.Attention.MergeHeads, batch, seq, heads, hd, new KernelArgs().Pointer(o).Pointer(P(output, op)));
    }
}
