namespace PromptAD.Tensors.Cpu;

// The fused causal attention as plain loops (the reference the GPU kernels are held to; the CPU's own model path keeps
// the cache-blocked AttentionForward, see PrefersFusedCausalAttention). Per (sequence, head): the forward keeps only
// each query row's log-sum-exp; the backward recomputes the probabilities, query row by query row for dQ and key row
// by key row for dK/dV, as the kernels do.
public sealed unsafe partial class CpuBackend
{
    public bool PrefersFusedCausalAttention(int seq, int headDim) => false;

    public void CausalAttentionForward(Tensor qkv, int batch, int seq, int heads, Tensor output, Tensor lse)
    {
        const string op = OpChecks.Names.CausalAttentionForward;
        OpChecks.CausalAttentionForward(qkv, batch, seq, heads, output, lse, out int w, out int hd);
        float* pq = P(qkv, op), po = P(output, op), pl = P(lse, op);
        float scale = 1f / MathF.Sqrt(hd);
        ForHeads(batch, heads, seq, hd, (b, h) =>
        {
            var s = new float[seq];
            var o = new float[hd];
            var head = new CausalHead(pq, b, h, seq, w, hd);
            for (int t = 0; t < seq; t++)
            {
                float max = float.NegativeInfinity, sum = 0;
                for (int j = 0; j <= t; j++)
                {
                    s[j] = scale * Simd.Dot(head.Q(t), head.K(j), hd);
                    max = MathF.Max(max, s[j]);
                }
                Array.Clear(o);
                for (int j = 0; j <= t; j++)
                {
                    float e = MathF.Exp(s[j] - max);
                    sum += e;
                    float* v = head.V(j);
                    for (int d = 0; d < hd; d++) o[d] += e * v[d];
                }
                float inv = 1f / sum;
                float* y = po + ((long)b * seq + t) * w + h * hd;
                for (int d = 0; d < hd; d++) y[d] = o[d] * inv;
                pl[((long)b * heads + h) * seq + t] = max + MathF.Log(sum);
            }
        });
    }

    public void CausalAttentionBackward(Tensor qkv, Tensor output, Tensor lse, Tensor dOutput, int batch, int seq, int heads, Tensor dqkv)
    {
        const string op = OpChecks.Names.CausalAttentionBackward;
        OpChecks.CausalAttentionBackward(qkv, output, lse, dOutput, batch, seq, heads, dqkv, out int w, out int hd);
        float* pq = P(qkv, op), po = P(output, op), pl = P(lse, op), pdo = P(dOutput, op), pdq = P(dqkv, op);
        float scale = 1f / MathF.Sqrt(hd);
        ForHeads(batch, heads, seq, hd, (b, h) =>
        {
            var head = new CausalHead(pq, b, h, seq, w, hd);
            float* rowLse = pl + ((long)b * heads + h) * seq;
            float* DOut(int t) => pdo + ((long)b * seq + t) * w + h * hd;
            float* Grad(int t, int section) => pdq + ((long)b * seq + t) * 3 * w + section * w + h * hd;
            // D_t = dO_t·O_t: the softmax backward's row term.
            var delta = new float[seq];
            for (int t = 0; t < seq; t++) delta[t] = Simd.Dot(DOut(t), po + ((long)b * seq + t) * w + h * hd, hd);
            // dS_tj = P_tj (dO_t·V_j − D_t) with P_tj = exp(s·Q_t·K_j − lse_t), recomputed where needed.
            float DScore(int t, int j, out float p)
            {
                p = MathF.Exp(scale * Simd.Dot(head.Q(t), head.K(j), hd) - rowLse[t]);
                return p * (Simd.Dot(DOut(t), head.V(j), hd) - delta[t]);
            }
            var acc = new float[hd];
            var accV = new float[hd];
            for (int t = 0; t < seq; t++)
            {
                Array.Clear(acc);
                for (int j = 0; j <= t; j++)
                {
                    float ds = DScore(t, j, out _);
                    float* k = head.K(j);
                    for (int d = 0; d < hd; d++) acc[d] += ds * k[d];
                }
                float* dq = Grad(t, 0);
                for (int d = 0; d < hd; d++) dq[d] = scale * acc[d];
            }
            for (int j = 0; j < seq; j++)
            {
                Array.Clear(acc);
                Array.Clear(accV);
                for (int t = j; t < seq; t++)
                {
                    float ds = DScore(t, j, out float p);
                    float* q = head.Q(t), g = DOut(t);
                    for (int d = 0; d < hd; d++)
                    {
                        acc[d] += ds * q[d];
                        accV[d] += p * g[d];
                    }
                }
                float* dk = Grad(j, 1), dv = Grad(j, 2);
                for (int d = 0; d < hd; d++)
                {
                    dk[d] = scale * acc[d];
                    dv[d] = accV[d];
                }
            }
        });
    }

    /// <summary>Row pointers of one (sequence, head) in packed qkv [batch·seq, 3·width].</summary>
    private readonly struct CausalHead(float* qkv, int b, int h, int seq, int width, int headDim)
    {
        private readonly float* _base = qkv + (long)b * seq * 3 * width + h * headDim;
        private readonly int _width = width;

        public float* Q(int t) => _base + (long)t * 3 * _width;
        public float* K(int t) => Q(t) + _width;
        public float* V(int t) => Q(t) + 2 * _width;
    }
}
