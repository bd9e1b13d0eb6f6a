using PromptAD.Tensors;
using K = PromptAD.Kernels.KernelCatalog;

namespace PromptAD.Kernels;

// Fused causal attention (attention.cu): one launch forward instead of split, two GEMMs, softmax and merge, and two
// backward instead of eight; the [seq, seq] scores and probabilities never go to global memory.
public sealed partial class CudaBackend
{
    public bool PrefersFusedCausalAttention(int seq, int headDim) =>
        headDim <= K.Attention.CausalMaxHeadDim && seq <= K.Attention.CausalMaxSeq;

    private static Dim3 CausalGrid(int batch, int seq, int heads) =>
        new((uint)((seq + K.Attention.CausalRowsPerBlock - 1) / K.Attention.CausalRowsPerBlock), (uint)heads, (uint)batch);

    private static void CausalLimits(int seq, int headDim, string op)
    {
        if (headDim > K.Attention.CausalMaxHeadDim || seq > K.Attention.CausalMaxSeq)
            throw new ArgumentException($"{op}: head dim {headDim} and seq {seq} exceed the fused kernels' limits ({K.Attention.CausalMaxHeadDim}, {K.Attention.CausalMaxSeq}); use attention_forward");
    }

    public void CausalAttentionForward(Tensor qkv, int batch, int seq, int heads, Tensor output, Tensor lse)
    {
        const string op = OpChecks.Names.CausalAttentionForward;
        OpChecks.CausalAttentionForward(qkv, batch, seq, heads, output, lse, out _, out int hd);
        CausalLimits(seq, hd, op);
        Launch(K.Attention.File, K.Attention.CausalForward, CausalGrid(batch, seq, heads), (uint)K.Attention.CausalBlockThreads,
            new KernelArgs().Pointer(P(qkv, op)).Pointer(P(output, op)).Pointer(P(lse, op))
                .Int(batch).Int(seq).Int(heads).Int(hd).Float(1f / MathF.Sqrt(hd)));
    }

    public void CausalAttentionBackward(Tensor qkv, Tensor output, Tensor lse, Tensor dOutput, int batch, int seq, int heads, Tensor dqkv)
    {
        const string op = OpChecks.Names.CausalAttentionBackward;
        OpChecks.CausalAttentionBackward(qkv, output, lse, dOutput, batch, seq, heads, dqkv, out _, out int hd);
        CausalLimits(seq, hd, op);
        float scale = 1f / MathF.Sqrt(hd);
        var grid = CausalGrid(batch, seq, heads);
        // delta = rowsum(dO∘O) per query row: written by the dQ kernel, read by the dK/dV kernel queued after it.
        using var delta = Temp((long)batch * heads * seq);
        Launch(K.Attention.File, K.Attention.CausalBackwardDq, grid, (uint)K.Attention.CausalBlockThreads,
            new KernelArgs().Pointer(P(qkv, op)).Pointer(P(output, op)).Pointer(P(dOutput, op)).Pointer(P(lse, op))
                .Pointer(delta.Pointer).Pointer(P(dqkv, op)).Int(batch).Int(seq).Int(heads).Int(hd).Float(scale));
        Launch(K.Attention.File, K.Attention.CausalBackwardDkv, grid, (uint)K.Attention.CausalBlockThreads,
            new KernelArgs().Pointer(P(qkv, op)).Pointer(P(dOutput, op)).Pointer(P(lse, op)).Pointer(delta.Pointer)
                .Pointer(P(dqkv, op)).Int(batch).Int(seq).Int(heads).Int(hd).Float(scale));
    }
}
