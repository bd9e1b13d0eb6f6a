using System.Runtime.InteropServices;

namespace PromptAD.Tensors.Cpu;

// Multi-head attention and V-V attention on packed qkv [batch·seq, 3·width]. Work is split over (sequence, head)
// pairs, one task per core: each head's scores (seq × seq) stay in that core's cache through GEMM → softmax → GEMM,
// and heads are column blocks of width/heads, so no head is ever copied out.
public sealed unsafe partial class CpuBackend
{
    public void AttentionForward(Tensor qkv, int batch, int seq, int heads, bool causal, Tensor output, Tensor probs)
    {
        const string op = OpChecks.Names.AttentionForward;
        OpChecks.AttentionForward(qkv, batch, seq, heads, output, probs, out int w, out int hd);
        float* pq = P(qkv, op), po = P(output, op), pp = P(probs, op);
        float scale = 1f / MathF.Sqrt(hd);
        long tt = (long)seq * seq;
        ForHeads(batch, heads, seq, hd, (b, h) =>
        {
            float* q = pq + (long)b * seq * 3 * w + h * hd;
            float* s = pp + ((long)b * heads + h) * tt;
            // scores = scale · Q Kᵀ, softmax (causal rows see positions ≤ their own), out = P V.
            CpuGemm.SgemmSingleThreaded(false, true, seq, seq, hd, scale, q, 3 * w, q + w, 3 * w, 0f, s, seq);
            for (int r = 0; r < seq; r++) SoftmaxRow(s + (long)r * seq, s + (long)r * seq, seq, causal ? r + 1 : seq);
            CpuGemm.SgemmSingleThreaded(false, false, seq, hd, seq, 1f, s, seq, q + 2 * w, 3 * w, 0f, po + (long)b * seq * w + h * hd, w);
        });
    }

    public void AttentionBackward(Tensor qkv, Tensor probs, Tensor dOutput, int batch, int seq, int heads, Tensor dqkv)
    {
        const string op = OpChecks.Names.AttentionBackward;
        OpChecks.AttentionBackward(qkv, probs, dOutput, batch, seq, heads, dqkv, out int w, out int hd);
        float* pq = P(qkv, op), pp = P(probs, op), pdo = P(dOutput, op), pdq = P(dqkv, op);
        float scale = 1f / MathF.Sqrt(hd);
        long tt = (long)seq * seq;
        ForHeads(batch, heads, seq, hd, (b, h, scratch) =>
        {
            float* ds = (float*)scratch;
            long rowBase = (long)b * seq * 3 * w + h * hd;
            float* q = pq + rowBase, dq = pdq + rowBase;
            float* p = pp + ((long)b * heads + h) * tt, dOut = pdo + (long)b * seq * w + h * hd;
            // dV = Pᵀ dO ; dP = dO Vᵀ ; dS = softmax'(dP) ; dQ = s·dS K ; dK = s·dSᵀ Q.
            CpuGemm.SgemmSingleThreaded(true, false, seq, hd, seq, 1f, p, seq, dOut, w, 0f, dq + 2 * w, 3 * w);
            CpuGemm.SgemmSingleThreaded(false, true, seq, seq, hd, 1f, dOut, w, q + 2 * w, 3 * w, 0f, ds, seq);
            for (int r = 0; r < seq; r++) SoftmaxBackwardRow(p + (long)r * seq, ds + (long)r * seq, ds + (long)r * seq, seq);
            CpuGemm.SgemmSingleThreaded(false, false, seq, hd, seq, scale, ds, seq, q + w, 3 * w, 0f, dq, 3 * w);
            CpuGemm.SgemmSingleThreaded(true, false, seq, hd, seq, scale, ds, seq, q, 3 * w, 0f, dq + w, 3 * w);
        });
    }

    public void VVAttentionForward(Tensor qkv, int batch, int seq, int heads, Tensor output)
    {
        const string op = OpChecks.Names.VVAttentionForward;
        OpChecks.VVAttentionForward(qkv, batch, seq, heads, output, out int w, out int hd);
        float* pq = P(qkv, op), po = P(output, op);
        float scale = 1f / MathF.Sqrt(hd);
        ForHeads(batch, heads, seq, hd, (b, h, scratch) =>
        {
            float* s = (float*)scratch;
            float* v = pq + (long)b * seq * 3 * w + 2 * w + h * hd;
            CpuGemm.SgemmSingleThreaded(false, true, seq, seq, hd, scale, v, 3 * w, v, 3 * w, 0f, s, seq);
            for (int r = 0; r < seq; r++) SoftmaxRow(s + (long)r * seq, s + (long)r * seq, seq, seq);
            CpuGemm.SgemmSingleThreaded(false, false, seq, hd, seq, 1f, s, seq, v, 3 * w, 0f, po + (long)b * seq * w + h * hd, w);
        });
    }

    /// <summary>Runs body(b, h) for every (sequence, head) pair, spread over the cores.</summary>
    private static void ForHeads(int batch, int heads, int seq, int hd, Action<int, int> body) =>
        CpuParallel.For(batch * heads, 4L * seq * seq * hd, (i0, i1) =>
        {
            for (int i = i0; i < i1; i++) body(i / heads, i % heads);
        });

    /// <summary>As above, with a seq × seq scratch matrix per task range (reused across its heads).</summary>
    private static void ForHeads(int batch, int heads, int seq, int hd, Action<int, int, IntPtr> body) =>
        CpuParallel.For(batch * heads, 4L * seq * seq * hd, (i0, i1) =>
        {
            float* scratch = (float*)NativeMemory.AlignedAlloc((nuint)((long)seq * seq * sizeof(float)), 64);
            try
            {
                for (int i = i0; i < i1; i++) body(i / heads, i % heads, (IntPtr)scratch);
            }
            finally
            {
                NativeMemory.AlignedFree(scratch);
            }
        });
}
