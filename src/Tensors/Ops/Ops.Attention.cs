namespace PromptAD.Tensors;

// Attention over a packed qkv [batch·seq, 3·width] (the output of CLIP's in-projection).
public static partial class Ops
{
    /// <summary>Multi-head scaled dot-product attention; returns [batch·seq, width].</summary>
    public static Tensor Attention(Tensor qkv, int batch, int seq, int heads, bool causal)
    {
        using var trace = Trace.Scope("attention");
        var be = qkv.Backend;
        int width = qkv.Cols / 3;
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

    /// <summary>CLIP Surgery's V-V attention, softmax(v·vᵀ/√d)·v per head; forward only (frozen image path).</summary>
    public static Tensor VVAttention(Tensor qkv, int batch, int seq, int heads)
    {
        using var trace = Trace.Scope("vv_attention");
        NoGrad("vv_attention", qkv);
        var output = Tensor.Empty(qkv.Backend, batch * seq, qkv.Cols / 3);
        qkv.Backend.VVAttentionForward(qkv, batch, seq, heads, output);
        return output;
    }
}
