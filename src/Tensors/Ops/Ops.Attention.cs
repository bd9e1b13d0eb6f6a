namespace PromptAD.Tensors;

// Attention over a packed qkv [batch·seq, 3·width] (the output of CLIP's in-projection).
public static partial class Ops
{
    /// <summary>Multi-head scaled dot-product attention; returns [batch·seq, width]. Causal attention takes the
    /// fused op (<see cref="CausalAttention"/>) where the backend prefers it for this shape (and fusion is not turned
    /// off on this thread, <see cref="WithoutFusion"/>).</summary>
    public static Tensor Attention(Tensor qkv, int batch, int seq, int heads, bool causal)
    {
        var be = qkv.Backend;
        int width = qkv.Cols / 3;
        if (causal && !t_unfused && heads > 0 && width % heads == 0 && qkv.Cols % 3 == 0 && be.PrefersFusedCausalAttention(seq, width / heads))
            return CausalAttention(qkv, batch, seq, heads);
        using var trace = Trace.Scope("attention");
        Trace.Flops(AttentionFlops(batch, seq, width));
        var output = Tensor.Empty(be, batch * seq, width);
        var probs = Tensor.Empty(be, batch * heads * seq, seq);
        be.AttentionForward(qkv, batch, seq, heads, causal, output, probs);
        if (!qkv.RequiresGrad)
        {
            probs.Dispose();
            return output;
        }
        return Track(output, "attention", [qkv], (dOut, sink) =>
        {
            var dqkv = Like(qkv);
            be.AttentionBackward(qkv, probs, dOut, batch, seq, heads, dqkv);
            sink.Add(qkv, dqkv);
        });
    }

    /// <summary>
    /// Causal multi-head attention without stored scores: the forward keeps the output and each query row's
    /// log-sum-exp, the backward recomputes the probabilities. Returns [batch·seq, width].
    /// </summary>
    public static Tensor CausalAttention(Tensor qkv, int batch, int seq, int heads)
    {
        using var trace = Trace.Scope("causal_attention");
        Trace.Flops(AttentionFlops(batch, seq, qkv.Cols / 3));
        var be = qkv.Backend;
        var output = Tensor.Empty(be, batch * seq, qkv.Cols / 3);
        var lse = Tensor.Empty(be, batch * heads * seq);
        be.CausalAttentionForward(qkv, batch, seq, heads, output, lse);
        if (!qkv.RequiresGrad)
        {
            lse.Dispose();
            return output;
        }
        return Track(output, "causal_attention", [qkv], (dOut, sink) =>
        {
            var dqkv = Like(qkv);
            be.CausalAttentionBackward(qkv, output, lse, dOut, batch, seq, heads, dqkv);
            sink.Add(qkv, dqkv);
        });
    }

    /// <summary>CLIP Surgery's V-V attention, softmax(v·vᵀ/√d)·v per head; forward only (frozen image path).</summary>
    public static Tensor VVAttention(Tensor qkv, int batch, int seq, int heads)
    {
        NoGrad("vv_attention", qkv);
        var output = Tensor.Empty(qkv.Backend, batch * seq, qkv.Cols / 3);
        VVAttentionInto(qkv, batch, seq, heads, output);
        return output;
    }

    /// <summary>
    /// CLIP Surgery's two attentions over one packed qkv, stacked by rows in one tensor [2·batch·seq, width] so that
    /// the out-projection after both is one GEMM (<see cref="LinearResidualStacked"/>): rows [0, batch·seq) the V-V
    /// path's softmax(v·vᵀ/√d)·v, the rest ordinary attention softmax(q·kᵀ/√d)·v. Forward only.
    /// </summary>
    public static Tensor DualAttention(Tensor qkv, int batch, int seq, int heads)
    {
        NoGrad("dual_attention", qkv);
        var be = qkv.Backend;
        int rows = batch * seq, width = qkv.Cols / 3;
        var output = Tensor.Empty(be, 2 * rows, width);
        using (Trace.Scope("vv_path")) VVAttentionInto(qkv, batch, seq, heads, output.RowsView(0, rows));
        using var trace = Trace.Scope("attention");
        Trace.Flops(AttentionFlops(batch, seq, width));
        using var probs = Tensor.Empty(be, batch * heads * seq, seq);
        be.AttentionForward(qkv, batch, seq, heads, false, output.RowsView(rows, rows), probs);
        return output;
    }

    private static void VVAttentionInto(Tensor qkv, int batch, int seq, int heads, Tensor output)
    {
        using var trace = Trace.Scope("vv_attention");
        Trace.Flops(AttentionFlops(batch, seq, qkv.Cols / 3));
        qkv.Backend.VVAttentionForward(qkv, batch, seq, heads, output);
    }

    // Scores and the weighted sum, 2·seq²·headDim each per head: 4·batch·seq²·width in all (the full square; a causal
    // kernel may skip half).
    private static double AttentionFlops(int batch, int seq, int width) => 4.0 * batch * seq * seq * width;
}
