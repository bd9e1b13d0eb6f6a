using PromptAD.Kernels;
using PromptAD.Tensors;
using PromptAD.Tensors.Autograd;
using PromptAD.Tensors.Cpu;
using O = PromptAD.Tensors.Ops;

namespace PromptAD.Tests.Ops;

/// <summary>
/// The fused ops against the unfused compositions they replace, at the model's own sizes (the op table covers odd
/// shapes against scalar references and finite differences): the causal attention at the text towers' shapes, forward
/// and qkv gradient, against attention through stored scores on the CPU; the linear epilogues on the CPU to the last
/// bit while the GEMM's inner size fits one k block (so CPU numbers did not move for such layers).
/// </summary>
public sealed class FusedOpTests
{
    private static float[] Random(int n, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1) * scale).ToArray();
    }

    /// <summary>Output and the gradient of Σ w·output with respect to qkv.</summary>
    private static (float[] Output, float[] Grad) AttentionWithGrad(IBackend be, float[] qkvValues, float[] weights,
        int batch, int seq, int heads, int width, Func<Tensor, Tensor> attend)
    {
        using var scope = TensorScope.Open();
        var qkv = Tensor.FromArray(be, qkvValues, batch * seq, 3 * width);
        qkv.RequiresGrad = true;
        var output = attend(qkv);
        var loss = O.MatMul(O.Reshape(output, 1, weights.Length), Tensor.FromArray(be, weights, weights.Length, 1));
        Backprop.Backward(loss);
        return (output.ToArray(), qkv.Grad!.ToArray());
    }

    private static double Relative(float[] actual, float[] expected)
    {
        double worst = 0, scale = 1e-30;
        for (int i = 0; i < expected.Length; i++)
        {
            double d = Math.Abs((double)actual[i] - expected[i]);
            worst = double.IsNaN(d) ? double.PositiveInfinity : Math.Max(worst, d);
            scale = Math.Max(scale, Math.Abs(expected[i]));
        }
        return worst / scale;
    }

    public static TheoryData<int, int, int, int> TextTowerShapes() => new()
    {
        { 2, 77, 10, 640 }, // ViT-B-16-plus-240's text tower (head dim 64)
        { 3, 77, 8, 512 },  // ViT-B-16's
        { 4, 13, 10, 640 }, // prompts truncated at their longest end token
    };

    /// <summary>Head dim 64 at the full and a truncated context, with fewer heads: the emulated GPU runs threads as fibers.</summary>
    public static TheoryData<int, int, int, int> EmulatedShapes() => new()
    {
        { 1, 77, 2, 128 },
        { 2, 13, 3, 192 },
    };

    private static void CheckCausalAgainstStoredScores(IBackend be, int batch, int seq, int heads, int width)
    {
        var qkv = Random(batch * seq * 3 * width, seq * 31 + heads, 2f);
        var w = Random(batch * seq * width, 7);
        var expected = AttentionWithGrad(CpuBackend.Instance, qkv, w, batch, seq, heads, width, t => O.Attention(t, batch, seq, heads, causal: true));
        var fused = AttentionWithGrad(be, qkv, w, batch, seq, heads, width, t => O.CausalAttention(t, batch, seq, heads));
        double output = Relative(fused.Output, expected.Output), grad = Relative(fused.Grad, expected.Grad);
        Assert.True(output <= 1e-5, $"{be.Name}: fused causal attention output differs by {output:E3} (relative)");
        Assert.True(grad <= 1e-4, $"{be.Name}: fused causal attention qkv gradient differs by {grad:E3} (relative)");
    }

    [Theory]
    [MemberData(nameof(TextTowerShapes))]
    public void CausalAttentionOnTheCpu_MatchesAttentionThroughStoredScores(int batch, int seq, int heads, int width) =>
        CheckCausalAgainstStoredScores(CpuBackend.Instance, batch, seq, heads, width);

    [Theory]
    [MemberData(nameof(EmulatedShapes))]
    public void CausalAttentionOnTheEmulatedGpu_MatchesAttentionThroughStoredScores(int batch, int seq, int heads, int width)
    {
        using var runtime = EmulatedKernels.CreateRuntime();
        using var be = new CudaBackend(runtime, ownsRuntime: false);
        Assert.True(be.PrefersFusedCausalAttention(seq, width / heads));
        CheckCausalAgainstStoredScores(be, batch, seq, heads, width);
    }

    [Fact]
    public void TheGpuKeepsTheStoredScoresPathAboveTheFusedKernelsLimits()
    {
        using var runtime = EmulatedKernels.CreateRuntime();
        using var be = new CudaBackend(runtime, ownsRuntime: false);
        Assert.False(be.PrefersFusedCausalAttention(77, KernelCatalog.Attention.CausalMaxHeadDim + 16));
        Assert.False(be.PrefersFusedCausalAttention(KernelCatalog.Attention.CausalMaxSeq + 1, 64));
        Assert.False(CpuBackend.Instance.PrefersFusedCausalAttention(77, 64));
        // Head dim 80: Ops.Attention falls back to stored scores and still agrees with the CPU.
        int batch = 1, seq = 9, heads = 2, width = 160;
        var qkv = Random(batch * seq * 3 * width, 5);
        var w = Random(batch * seq * width, 6);
        var expected = AttentionWithGrad(CpuBackend.Instance, qkv, w, batch, seq, heads, width, t => O.Attention(t, batch, seq, heads, causal: true));
        var actual = AttentionWithGrad(be, qkv, w, batch, seq, heads, width, t => O.Attention(t, batch, seq, heads, causal: true));
        Assert.True(Relative(actual.Output, expected.Output) <= 1e-5);
        Assert.True(Relative(actual.Grad, expected.Grad) <= 1e-4);
        using var scope = TensorScope.Open();
        var ex = Assert.Throws<ArgumentException>(() => O.CausalAttention(Tensor.FromArray(be, qkv, batch * seq, 3 * width), batch, seq, heads));
        Assert.Contains("causal_attention_forward", ex.Message);
    }

    /// <summary>A layer input [37, 200] and its weight [131, 200] and bias: an inner size inside one CPU GEMM k block.</summary>
    private static (Tensor X, Tensor Weight, Tensor Bias) CpuLayer()
    {
        int rows = 37, inF = 200, outF = 131;
        var be = CpuBackend.Instance;
        return (Tensor.FromArray(be, Random(rows * inF, 1), rows, inF), Tensor.FromArray(be, Random(outF * inF, 2, 0.2f), outF, inF),
            Tensor.FromArray(be, Random(outF, 3), outF));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LinearGeluOnTheCpu_IsBitIdenticalToLinearThenGelu_WithinOneGemmBlock(bool quick)
    {
        using var scope = TensorScope.Open();
        var (x, wt, b) = CpuLayer();
        var fused = O.LinearGelu(x, wt, b, quick).ToArray();
        var linear = O.Linear(x, wt, b);
        var unfused = (quick ? O.QuickGelu(linear) : O.Gelu(linear)).ToArray();
        Assert.Equal(unfused, fused);
    }

    [Fact]
    public void LinearResidualOnTheCpu_IsBitIdenticalToAddAfterLinear_WithinOneGemmBlock()
    {
        using var scope = TensorScope.Open();
        var (x, wt, b) = CpuLayer();
        var r = Tensor.FromArray(CpuBackend.Instance, Random(x.Rows * wt.Rows, 4), x.Rows, wt.Rows);
        Assert.Equal(O.Add(r, O.Linear(x, wt, b)).ToArray(), O.LinearResidual(x, wt, b, r).ToArray());
    }

    [Fact]
    public void WithoutFusion_RestoresFusionWhenDisposed()
    {
        var be = CpuBackend.Instance;
        using var scope = TensorScope.Open();
        var x = Tensor.FromArray(be, Random(12, 1), 3, 4);
        x.RequiresGrad = true;
        var wt = Tensor.FromArray(be, Random(20, 2), 5, 4);
        var b = Tensor.FromArray(be, Random(5, 3), 5);
        using (O.WithoutFusion()) Assert.Equal("gelu", O.LinearGelu(x, wt, b).Node!.Op);
        Assert.Equal("linear_gelu", O.LinearGelu(x, wt, b).Node!.Op);
    }
}
