using PromptAD.Tensors;

namespace PromptAD.Clip;

/// <summary>
/// One pre-norm transformer block's weights (views into <see cref="ClipWeights"/>) and its forward passes:
/// x += out_proj(attn(ln_1(x))); x += c_proj(act(c_fc(ln_2(x)))). Everything goes through <see cref="Ops"/>,
/// so gradients flow to whatever input requires one, on any backend. Each linear layer takes the fused op of what
/// follows it: c_fc with its activation (<see cref="Ops.LinearGelu"/>), out_proj and c_proj with the residual add
/// (<see cref="Ops.LinearResidual"/>).
/// </summary>
internal sealed class ResidualBlock
{
    private readonly Tensor _ln1W, _ln1B, _inW, _inB, _outW, _outB, _ln2W, _ln2B, _fcW, _fcB, _projW, _projB;
    private readonly int _heads;
    private readonly bool _quickGelu;
    private readonly float _eps;
    private readonly string _name; // the state-dict prefix, e.g. "visual.transformer.resblocks.3": the trace range name

    public ResidualBlock(ClipWeights w, string prefix, int heads)
    {
        _ln1W = w[prefix + "ln_1.weight"];
        _ln1B = w[prefix + "ln_1.bias"];
        _inW = w[prefix + "attn.in_proj_weight"];
        _inB = w[prefix + "attn.in_proj_bias"];
        _outW = w[prefix + "attn.out_proj.weight"];
        _outB = w[prefix + "attn.out_proj.bias"];
        _ln2W = w[prefix + "ln_2.weight"];
        _ln2B = w[prefix + "ln_2.bias"];
        _fcW = w[prefix + "mlp.c_fc.weight"];
        _fcB = w[prefix + "mlp.c_fc.bias"];
        _projW = w[prefix + "mlp.c_proj.weight"];
        _projB = w[prefix + "mlp.c_proj.bias"];
        _name = prefix.TrimEnd('.');
        _heads = heads;
        _quickGelu = w.Config.UsesQuickGelu;
        _eps = w.Config.LayerNormEps;
    }

    /// <summary>
    /// The causal block on unique rows (<see cref="SharedPrefixLayout"/>): per-row work on the unique rows, attention
    /// on every sequence rebuilt by <paramref name="expand"/>, and each unique row's result read back from its
    /// representative position. Gradients scatter back through both gathers, so shared rows sum their gradients.
    /// </summary>
    public Tensor ForwardCausalShared(Tensor unique, int[] expand, int[] representatives, int batch, int seq)
    {
        using var trace = Trace.Scope(_name);
        var qkv = Ops.Linear(Ops.LayerNorm(unique, _ln1W, _ln1B, _eps), _inW, _inB);
        var attended = Ops.Attention(Ops.GatherRows(qkv, expand), batch, seq, _heads, causal: true);
        return Mlp(Ops.LinearResidual(Ops.GatherRows(attended, representatives), _outW, _outB, unique));
    }

    /// <summary>
    /// CLIP Surgery's dual path (SPEC §4): both paths use q,k,v from ln_1 of the ORIGINAL path's input; the
    /// V-V path adds out_proj(softmax(v·vᵀ/√d)·v) and skips the MLP. Forward only. <c>PreMlp</c> is the original
    /// path's state between its attention residual and its MLP, x + out_proj(attn(ln_1(x))): what the authors' code
    /// stores as the previous block's mid-level feature (SPEC §4 item 3).
    /// ln_1 and the in-projection run once for both paths, and so does out_proj: both attentions write one stacked
    /// tensor and one GEMM over twice the rows projects them, each with its own residual. <c>VV</c> and <c>PreMlp</c> are
    /// row views of <c>Stacked</c>, which owns their memory (keep and dispose it, not them).
    /// </summary>
    public (Tensor Original, Tensor VV, Tensor PreMlp, Tensor Stacked) ForwardDual(Tensor x, Tensor xvv, int batch, int seq)
    {
        using var trace = Trace.Scope(_name);
        int rows = batch * seq;
        var qkv = Ops.Linear(Ops.LayerNorm(x, _ln1W, _ln1B, _eps), _inW, _inB);
        var attended = Ops.DualAttention(qkv, batch, seq, _heads);
        qkv.Dispose();
        var stacked = Ops.LinearResidualStacked(attended, _outW, _outB, xvv, x);
        attended.Dispose();
        var preMlp = stacked.RowsView(rows, rows);
        return (Mlp(preMlp), stacked.RowsView(0, rows), preMlp, stacked);
    }

    private Tensor Mlp(Tensor x)
    {
        var activated = Ops.LinearGelu(Ops.LayerNorm(x, _ln2W, _ln2B, _eps), _fcW, _fcB, _quickGelu);
        return Ops.LinearResidual(activated, _projW, _projB, x);
    }
}
