using System.Runtime.InteropServices;

namespace PromptAD.Tensors.Cpu;

// Multi-head attention and V-V attention on packed qkv [batch·seq, 3·width]. Each sequence is a strided
// batch of per-head GEMMs (heads are column blocks of width/heads), so no head is ever copied out.
public sealed unsafe partial class CpuBackend
{
    public void AttentionForward(Tensor qkv, int batch, int seq, int heads, bool causal, Tensor output, Tensor probs)
    {
        const string op = OpChecks.Names.AttentionForward;
        OpChecks.AttentionForward(qkv, batch, seq, heads, output, probs, out int w, out int hd);
        float* pq = P(qkv, op), po = P(output, op), pp = P(probs, op);
        float scale = 1f / MathF.Sqrt(hd);
        long tt = (long)seq * seq;
        for (int b = 0; b < batch; b++)
        {
            float* q = pq + (long)b * seq * 3 * w;
            float* pb = pp + b * heads * tt;
            // scores_h = scale · Q_h K_hᵀ, then softmax, then out_h = P_h V_h.
            CpuGemm.SgemmStridedBatched(false, true, seq, seq, hd, scale, q, 3 * w, hd, q + w, 3 * w, hd, 0f, pb, seq, tt, heads);
            SoftmaxRows(pb, heads * seq, seq, causal ? seq : 0);
            CpuGemm.SgemmStridedBatched(false, false, seq, hd, seq, 1f, pb, seq, tt, q + 2 * w, 3 * w, hd, 0f, po + (long)b * seq * w, w, hd, heads);
        }
    }

    public void AttentionBackward(Tensor qkv, Tensor probs, Tensor dOutput, int batch, int seq, int heads, Tensor dqkv)
    {
        const string op = OpChecks.Names.AttentionBackward;
        OpChecks.AttentionBackward(qkv, probs, dOutput, batch, seq, heads, dqkv, out int w, out int hd);
        float* pq = P(qkv, op), pp = P(probs, op), pdo = P(dOutput, op), pdq = P(dqkv, op);
        float scale = 1f / MathF.Sqrt(hd);
        long tt = (long)seq * seq;
        float* ds = (float*)NativeMemory.AlignedAlloc((nuint)(heads * tt * sizeof(float)), 64);
        try
        {
            for (int b = 0; b < batch; b++)
            {
                float* q = pq + (long)b * seq * 3 * w, dq = pdq + (long)b * seq * 3 * w;
                float* pb = pp + b * heads * tt, dob = pdo + (long)b * seq * w;
                // dV_h = P_hᵀ dO_h ; dP_h = dO_h V_hᵀ ; dS = softmax'(dP) ; dQ_h = s·dS K_h ; dK_h = s·dSᵀ Q_h.
                CpuGemm.SgemmStridedBatched(true, false, seq, hd, seq, 1f, pb, seq, tt, dob, w, hd, 0f, dq + 2 * w, 3 * w, hd, heads);
                CpuGemm.SgemmStridedBatched(false, true, seq, seq, hd, 1f, dob, w, hd, q + 2 * w, 3 * w, hd, 0f, ds, seq, tt, heads);
                float* dsLocal = ds;
                CpuParallel.For(heads * seq, 3L * seq, (r0, r1) =>
                {
                    for (int r = r0; r < r1; r++) SoftmaxBackwardRow(pb + (long)r * seq, dsLocal + (long)r * seq, dsLocal + (long)r * seq, seq);
                });
                CpuGemm.SgemmStridedBatched(false, false, seq, hd, seq, scale, ds, seq, tt, q + w, 3 * w, hd, 0f, dq, 3 * w, hd, heads);
                CpuGemm.SgemmStridedBatched(true, false, seq, hd, seq, scale, ds, seq, tt, q, 3 * w, hd, 0f, dq + w, 3 * w, hd, heads);
            }
        }
        finally
        {
            NativeMemory.AlignedFree(ds);
        }
    }

    public void VVAttentionForward(Tensor qkv, int batch, int seq, int heads, Tensor output)
    {
        const string op = OpChecks.Names.VVAttentionForward;
        OpChecks.VVAttentionForward(qkv, batch, seq, heads, output, out int w, out int hd);
        float* pq = P(qkv, op), po = P(output, op);
        float scale = 1f / MathF.Sqrt(hd);
        long tt = (long)seq * seq;
        float* s = (float*)NativeMemory.AlignedAlloc((nuint)(heads * tt * sizeof(float)), 64);
        try
        {
            for (int b = 0; b < batch; b++)
            {
                float* v = pq + (long)b * seq * 3 * w + 2 * w;
                CpuGemm.SgemmStridedBatched(false, true, seq, seq, hd, scale, v, 3 * w, hd, v, 3 * w, hd, 0f, s, seq, tt, heads);
                SoftmaxRows(s, heads * seq, seq, 0);
                CpuGemm.SgemmStridedBatched(false, false, seq, hd, seq, 1f, s, seq, tt, v, 3 * w, hd, 0f, po + (long)b * seq * w, w, hd, heads);
            }
        }
        finally
        {
            NativeMemory.AlignedFree(s);
        }
    }

    private static void SoftmaxRows(float* x, int rows, int cols, int causalSeqLen)
    {
        CpuParallel.For(rows, 3L * cols, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
                SoftmaxRow(x + (long)r * cols, x + (long)r * cols, cols, causalSeqLen > 0 ? r % causalSeqLen + 1 : cols);
        });
    }
}
