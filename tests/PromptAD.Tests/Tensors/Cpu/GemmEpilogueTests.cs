using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using PromptAD.Tensors;
using PromptAD.Tensors.Cpu;
using O = PromptAD.Tensors.Ops;

namespace PromptAD.Tests.Tensors.Cpu;

/// <summary>
/// The CPU GEMM's per-tile epilogues (bias + GELU, bias + residual, two stacked residuals) give, to the last bit, what
/// the GEMM followed by the separate epilogue pass gave: on every kernel path, with several k blocks (the epilogue must
/// wait for the last), tail tiles in both directions and a multi-worker grid (each worker's block offsets). And the
/// V-V block's sharing: one out_proj GEMM over both paths' stacked rows gives each row what a GEMM over its own path
/// gave, and the stacked attentions are the two attentions. (The op table checks the same ops against scalar
/// references; the CLIP goldens the encoder.)
/// </summary>
public sealed class GemmEpilogueTests
{
    private static readonly CpuBackend Be = CpuBackend.Instance;

    private static Tensor Random(int seed, float scale, params int[] shape)
    {
        var rng = new Random(seed);
        var values = new float[Shape.Elements(shape)];
        for (int i = 0; i < values.Length; i++) values[i] = (float)(rng.NextDouble() * 2 - 1) * scale;
        return Tensor.FromArray(Be, values, shape);
    }

    public static TheoryData<string, int, int, int> Shapes()
    {
        var data = new TheoryData<string, int, int, int>();
        bool avx2 = Vector256.IsHardwareAccelerated && Fma.IsSupported;
        foreach (string path in avx2 ? new[] { "best", "avx2", "scalar" } : ["best", "scalar"])
        {
            data.Add(path, 37, 200, 131);  // one k block, tail tiles
            data.Add(path, 45, 600, 70);   // three k blocks
            data.Add(path, 120, 900, 260); // k blocks and a parallel grid of C blocks
        }
        return data;
    }

    private static IDisposable UsePath(string path)
    {
        CpuGemm.GemmConfig.t_override = path switch
        {
            "avx2" => CpuGemm.GemmConfig.Avx2,
            "scalar" => CpuGemm.GemmConfig.Scalar,
            _ => null,
        };
        return new PathReset();
    }

    private sealed class PathReset : IDisposable
    {
        public void Dispose() => CpuGemm.GemmConfig.t_override = null;
    }

    private static Tensor GemmWithoutBias(Tensor x, Tensor w)
    {
        var h = Tensor.Empty(Be, x.Rows, w.Rows);
        Be.Gemm(false, true, x.Rows, w.Rows, x.Cols, 1f, x, 0, x.Cols, 0, w, 0, w.Cols, 0, 0f, h, 0, w.Rows, 0, 1);
        return h;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void BiasActivationPerTile_IsBitIdenticalToTheSeparatePass(string path, int rows, int inF, int outF)
    {
        using var scope = TensorScope.Open();
        var (x, w, b) = (Random(1, 1f, rows, inF), Random(2, 0.1f, outF, inF), Random(3, 1f, outF));
        using var _ = UsePath(path);
        foreach (bool quick in new[] { false, true })
        {
            var pre = GemmWithoutBias(x, w);
            var y = Tensor.Empty(Be, rows, outF);
            if (quick) Be.BiasQuickGeluForward(pre, b, pre, y);
            else Be.BiasGeluForward(pre, b, pre, y);

            var fusedPre = Tensor.Empty(Be, rows, outF);
            var fusedY = Tensor.Empty(Be, rows, outF);
            Be.LinearGeluForward(x, w, b, quick, fusedPre, fusedY);
            Assert.Equal(pre.ToArray(), fusedPre.ToArray());
            Assert.Equal(y.ToArray(), fusedY.ToArray());

            var inPlace = Tensor.Empty(Be, rows, outF); // no backward: the activation overwrites the pre-activation
            Be.LinearGeluForward(x, w, b, quick, inPlace, inPlace);
            Assert.Equal(y.ToArray(), inPlace.ToArray());
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void BiasSeededPerTile_IsBitIdenticalToBroadcastThenGemmOntoIt(string path, int rows, int inF, int outF)
    {
        using var scope = TensorScope.Open();
        var (x, w, b) = (Random(14, 1f, rows, inF), Random(15, 0.1f, outF, inF), Random(16, 1f, outF));
        using var _ = UsePath(path);
        var expected = Tensor.Empty(Be, rows, outF);
        Be.BroadcastRows(b, expected, 1f);
        Be.Gemm(false, true, rows, outF, inF, 1f, x, 0, inF, 0, w, 0, inF, 0, 1f, expected, 0, outF, 0, 1);
        var seeded = Tensor.Full(Be, float.NaN, rows, outF); // nothing of what was there may leak in
        Be.LinearForward(x, w, b, seeded);
        Assert.Equal(expected.ToArray(), seeded.ToArray());
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void BiasResidualPerTile_IsBitIdenticalToTheSeparatePass_AlsoWithTwoStackedResiduals(string path, int rows, int inF, int outF)
    {
        using var scope = TensorScope.Open();
        var (x, w, b) = (Random(4, 1f, rows, inF), Random(5, 0.1f, outF, inF), Random(6, 1f, outF));
        var residual = Random(7, 3f, rows, outF);
        using var _ = UsePath(path);
        var expected = GemmWithoutBias(x, w);
        Be.BiasResidualForward(expected, b, residual, expected);

        var fused = Tensor.Empty(Be, rows, outF);
        Be.LinearResidualForward(x, w, b, residual, null, fused);
        Assert.Equal(expected.ToArray(), fused.ToArray());

        int split = rows / 3; // not on a tile boundary
        var top = O.SliceRows(residual, 0, split);
        var below = O.SliceRows(residual, split, rows - split);
        var stacked = Tensor.Empty(Be, rows, outF);
        Be.LinearResidualForward(x, w, b, top, below, stacked);
        Assert.Equal(expected.ToArray(), stacked.ToArray());
    }

    [Fact]
    public void OutProjOverBothPathsStacked_GivesEachRowWhatItsOwnPathsGemmGave()
    {
        using var scope = TensorScope.Open();
        int rows = 2 * 113, width = 320; // 113 rows per path: no multiple of any kernel's tile height
        var (w, b) = (Random(8, 0.1f, width, width), Random(9, 1f, width));
        var (attended, x, xvv) = (Random(10, 1f, 2 * rows, width), Random(11, 2f, rows, width), Random(12, 2f, rows, width));
        var stacked = O.LinearResidualStacked(attended, w, b, xvv, x);
        var vv = O.LinearResidual(O.SliceRows(attended, 0, rows), w, b, xvv);
        var original = O.LinearResidual(O.SliceRows(attended, rows, rows), w, b, x);
        Assert.Equal([.. vv.ToArray(), .. original.ToArray()], stacked.ToArray());
    }

    [Fact]
    public void DualAttention_IsTheVVAttentionAboveTheOrdinaryOne()
    {
        using var scope = TensorScope.Open();
        int batch = 2, seq = 17, heads = 3, width = 48;
        var qkv = Random(13, 2f, batch * seq, 3 * width);
        var both = O.DualAttention(qkv, batch, seq, heads);
        var vv = O.VVAttention(qkv, batch, seq, heads);
        var attention = O.Attention(qkv, batch, seq, heads, causal: false);
        Assert.Equal([.. vv.ToArray(), .. attention.ToArray()], both.ToArray());
    }

    [Fact]
    public void StackedResiduals_MustCoverTheRows()
    {
        using var scope = TensorScope.Open();
        var (x, w, b) = (Random(1, 1f, 6, 8), Random(2, 1f, 4, 8), Random(3, 1f, 4));
        var ex = Assert.Throws<ArgumentException>(() => O.LinearResidualStacked(x, w, b, Random(4, 1f, 3, 4), Random(5, 1f, 2, 4)));
        Assert.Contains("linear_residual_forward", ex.Message);
        Assert.Contains("residual", ex.Message);
    }
}
