using PromptAD.Tensors;
using PromptAD.Tensors.Autograd;
using PromptAD.Tensors.Cpu;
using PromptAD.Tests.Ops;
using R = PromptAD.Tests.Ops.ScalarReference;
using O = PromptAD.Tensors.Ops;

namespace PromptAD.Tests.Tensors;

/// <summary>
/// The graph machinery beyond single ops: a prompt-learning-shaped chain with shared tensors (residual
/// diamonds, one tensor feeding two ops) checked against finite differences of the same chain built from the
/// scalar references; frozen inputs get no gradient and no graph; scopes free what they collected.
/// </summary>
public sealed class AutogradTests
{
    private static readonly IBackend Cpu = CpuBackend.Instance;
    private const int D = 8, Seq = 6, Heads = 2;

    private static double[] Random(int n, int seed, double scale = 1)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (rng.NextDouble() * 2 - 1) * scale).ToArray();
    }

    private sealed record Inputs(double[] Ctx, double[] Tokens, double[] Wqkv, double[] Bqkv, double[] Gamma, double[] Beta, double[] Wo, double[] Vision);

    private static Inputs MakeInputs() => new(
        Random(3 * D, 1, 0.5), Random(Seq * D, 2), Random(3 * D * D, 3, 0.4), Random(3 * D, 4, 0.1),
        Random(D, 5, 0.2).Select(v => 1 + v).ToArray(), Random(D, 6, 0.1), Random(D * D, 7, 0.4), Random(2 * D, 8));

    private static readonly int[] Positions = [1, 2, 3];

    private static Tensor Engine(Inputs x, out Tensor ctx, out Tensor[] frozen)
    {
        Tensor T(double[] v, params int[] shape) => Tensor.FromArray(Cpu, v.Select(d => (float)d).ToArray(), shape);
        ctx = T(x.Ctx, 3, D);
        ctx.RequiresGrad = true;
        var tokens = T(x.Tokens, Seq, D);
        var wqkv = T(x.Wqkv, 3 * D, D);
        var bqkv = T(x.Bqkv, 3 * D);
        var gamma = T(x.Gamma, D);
        var beta = T(x.Beta, D);
        var wo = T(x.Wo, D, D);
        var vision = T(x.Vision, 2, D);
        frozen = [tokens, wqkv, bqkv, gamma, beta, wo, vision];

        var e = O.SpliceRows(tokens, ctx, Positions);
        var qkv = O.Linear(O.LayerNorm(e, gamma, beta), wqkv, bqkv);
        var r = O.Add(e, O.Linear(O.Attention(qkv, 1, Seq, Heads, causal: true), wo));
        var g = O.Gelu(r);
        var t = O.ConcatRows(O.GatherRows(g, [4]), O.SliceRows(g, 5, 1));
        var logits = O.Scale(O.CosineSimilarity(vision, t), 4.6f);
        var ce = O.SoftmaxCrossEntropy(logits, [0, 0]);
        var margin = O.Mean(O.SquaredDistance(vision, O.MeanRows(t)));
        return O.Add(ce, margin);
    }

    private static double Reference(Inputs x, double[] ctx)
    {
        var e = R.splice_rows(x.Tokens, ctx, D, Positions);
        var qkv = R.linear(R.layernorm_forward(e, x.Gamma, x.Beta, Seq, D, 1e-5), x.Wqkv, x.Bqkv, Seq, D, 3 * D);
        var a = R.linear(R.attention_forward(qkv, 1, Seq, Heads, D, true, false), x.Wo, null, Seq, D, D);
        var g = R.map(e.Zip(a, (p, q) => p + q).ToArray(), R.gelu);
        var t = g[(4 * D)..(6 * D)];
        var logits = R.map(R.cosine_similarity(x.Vision, t, 2, 2, D), v => 4.6 * v);
        double ce = R.softmax_crossentropy_forward(logits, 2, 2, [0, 0])[0];
        double margin = R.squared_distance_forward(x.Vision, R.sum_rows(t, 2, D, 0.5), 2, D, true).Average();
        return ce + margin;
    }

    [Fact]
    public void PromptShapedChainMatchesFiniteDifferences()
    {
        var x = MakeInputs();
        using var scope = TensorScope.Open();
        var loss = Engine(x, out var ctx, out var frozen);
        Assert.Equal(Reference(x, x.Ctx), loss.Item(), 1e-5);
        Backprop.Backward(loss);

        var analytic = ctx.Grad!.ToArray();
        const double h = 1e-5;
        for (int k = 0; k < x.Ctx.Length; k++)
        {
            var plus = (double[])x.Ctx.Clone();
            var minus = (double[])x.Ctx.Clone();
            plus[k] += h;
            minus[k] -= h;
            double numeric = (Reference(x, plus) - Reference(x, minus)) / (2 * h);
            Assert.True(Math.Abs(analytic[k] - numeric) <= 1e-3 * Math.Max(0.05, Math.Abs(numeric)),
                $"d loss / d ctx[{k}]: analytic {analytic[k]}, finite difference {numeric}");
        }
        foreach (var f in frozen) Assert.Null(f.Grad);
    }

    [Fact]
    public void GradientsAccumulateAcrossBackwardCalls()
    {
        using var scope = TensorScope.Open();
        var p = Tensor.FromArray(Cpu, [1f, -2f, 3f], 1, 3);
        p.RequiresGrad = true;
        // loss = mean(p) twice through one graph (p feeds both sides of the add): gradient 2/3 each.
        Backprop.Backward(O.Add(O.Mean(p), O.Mean(p)));
        Assert.All(p.Grad!.ToArray(), g => Assert.Equal(2.0 / 3, g, 1e-6));
        Backprop.Backward(O.Scale(O.Mean(p), 3f));
        Assert.All(p.Grad!.ToArray(), g => Assert.Equal(5.0 / 3, g, 1e-6));
        p.ZeroGrad();
        Assert.Null(p.Grad);
    }

    [Fact]
    public void FrozenInputsRecordNoGraph()
    {
        using var scope = TensorScope.Open();
        var x = Tensor.FromArray(Cpu, [1f, 2f, 3f, 4f], 2, 2);
        var w = Tensor.FromArray(Cpu, [0.5f, 0f, 0f, 0.5f], 2, 2);
        var y = O.Gelu(O.Linear(x, w));
        Assert.False(y.RequiresGrad);
        Assert.True(y.IsLeaf);
        Assert.Throws<InvalidOperationException>(() => Backprop.Backward(O.Mean(y)));
    }

    [Fact]
    public void ForwardOnlyOpsRejectInputsThatRequireGradients()
    {
        using var scope = TensorScope.Open();
        var q = Tensor.FromArray(Cpu, [1f, 0f], 1, 2);
        q.RequiresGrad = true;
        Assert.Throws<NotSupportedException>(() => O.NearestNeighbour(q, q));
        var gamma = Tensor.Full(Cpu, 1f, 2);
        gamma.RequiresGrad = true;
        Assert.Throws<NotSupportedException>(() => O.LayerNorm(q, gamma, Tensor.Zeros(Cpu, 2)));
    }

    [Fact]
    public void ScopeDisposesWhatItCollectedExceptKeptTensors()
    {
        Tensor inner, kept;
        using (var scope = TensorScope.Open())
        {
            inner = Tensor.Zeros(Cpu, 4);
            kept = scope.Keep(O.Scale(Tensor.Full(Cpu, 2f, 4), 3f));
        }
        Assert.True(inner.IsDisposed);
        Assert.False(kept.IsDisposed);
        Assert.Equal([6f, 6f, 6f, 6f], kept.ToArray());
        kept.Dispose();
        Assert.Throws<ObjectDisposedException>(() => kept.ToArray());
    }

    [Fact]
    public void ShapeErrorsNameTheOpAndShapes()
    {
        using var scope = TensorScope.Open();
        var a = Tensor.Zeros(Cpu, 2, 3);
        var b = Tensor.Zeros(Cpu, 4, 5);
        var ex = Assert.Throws<ArgumentException>(() => O.MatMul(a, b));
        Assert.Contains("matmul", ex.Message);
        Assert.Contains("[2, 3]", ex.Message);
        var gemm = Assert.Throws<ArgumentException>(() => Cpu.Gemm(false, false, 2, 5, 3, 1f, a, 0, 3, 0, b, 0, 5, 0, 0f, a, 0, 5, 0, 1));
        Assert.Contains("gemm", gemm.Message);
    }
}
