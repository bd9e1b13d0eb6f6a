using PromptAD.Kernels;
using PromptAD.Tensors;
using PromptAD.Tensors.Autograd;
using PromptAD.Tensors.Cpu;
using PromptAD.Tests.Requirements;

namespace PromptAD.Tests.Ops;

/// <summary>
/// The op table's GEMM cases in a reduced GEMM precision (<see cref="GemmPrecision"/>), against the CPU backend in FP32.
/// <para>Stated tolerance, with u the unit roundoff of the GEMM inputs (2^-11 TF32, 2^-8 BF16): an output element
/// Σ_l a_l·b_l whose inputs are each off by a relative δ (|δ| ≤ u) is off by Σ_l a_l·b_l·(δa_l + δb_l), k terms of
/// random sign: about √(2k/3)·u·rms(a·b), while the outputs themselves are about √k·rms(a·b). Relative to the output's
/// largest magnitude the error is therefore about u, whatever k; the worst of the elements a few times that, and ops
/// that chain two GEMMs (attention: scores, softmax, probabilities·V) add their errors. Forward outputs must lie within
/// <see cref="ForwardFactor"/>·u of the output's largest magnitude, gradients within <see cref="GradientFactor"/>·u
/// (each gradient chains the forward's and the backward's rounded GEMMs).</para>
/// <para>The tolerance alone cannot see a GEMM that silently stayed FP32, so the largest matmul case must also differ
/// from FP32 by at least u/16 of its scale, and <see cref="GemmMatchesItsRoundedInputs"/> compares each GEMM with the
/// exact product of independently rounded inputs, where an unrounded operand or a wrong rounding mode shows up.</para>
/// </summary>
public abstract class PrecisionOpTests
{
    public const double ForwardFactor = 4, GradientFactor = 8;

    /// <summary>Op table ops that run at least one GEMM on the GPU backend (checked by <see cref="GemmCaseTests"/>).</summary>
    public static readonly string[] GemmOps = ["matmul", "linear", "linear_gelu", "linear_quickgelu", "linear_residual",
        "linear_residual_stacked", "attention", "vv_attention", "dual_attention", "cosine_similarity", "nearest_distance"];

    /// <summary>Causal attention runs the fused kernel (scores never in global memory), no GEMM.</summary>
    public static bool IsGemmCase(string name) =>
        GemmOps.Contains(name[..name.IndexOf('/')]) && !(name.StartsWith("attention/", StringComparison.Ordinal) && name.EndsWith("_causal", StringComparison.Ordinal));

    public static TheoryData<string> ForwardGemmCases() => new(OpTable.Names(backwardOnly: false).Where(IsGemmCase));

    public static TheoryData<string> BackwardGemmCases() => new(OpTable.Names(backwardOnly: true).Where(IsGemmCase));

    protected abstract GemmPrecision Precision { get; }

    /// <summary>The backend under test in <see cref="Precision"/> (skips when it is unavailable).</summary>
    protected abstract IBackend Backend();

    /// <summary>The inputs' unit roundoff the tolerances are stated in.</summary>
    protected virtual double UnitRoundoff => Precision.UnitRoundoff();

    /// <summary>Whether the GEMM of rounded inputs is exact to FP32 accumulation (false where the hardware's rounding of
    /// the inputs is not known: TF32 on a GPU may truncate).</summary>
    protected virtual bool RoundingIsKnown => true;

    [Theory]
    [MemberData(nameof(ForwardGemmCases))]
    public void ForwardMatchesCpuWithinTheStatedTolerance(string name)
    {
        var be = Backend();
        var c = OpTable.Get(name);
        var inputs = c.MakeInputs();
        using var scope = TensorScope.Open();
        var cpu = c.Run(BackendOpTests.Upload(CpuBackend.Instance, c, inputs, requireGrad: false)).ToArray();
        var device = c.Run(BackendOpTests.Upload(be, c, inputs, requireGrad: false)).ToArray();
        AssertWithin(name, "output", cpu, device, ForwardFactor);
    }

    [Theory]
    [MemberData(nameof(BackwardGemmCases))]
    public void GradientsMatchCpuWithinTheStatedTolerance(string name)
    {
        var be = Backend();
        var c = OpTable.Get(name);
        var inputs = c.MakeInputs();
        using var scope = TensorScope.Open();
        var cpu = Gradients(CpuBackend.Instance, c, inputs);
        var device = Gradients(be, c, inputs);
        for (int i = 0; i < cpu.Length; i++)
            if (cpu[i] is not null) AssertWithin(name, $"gradient of input {i}", cpu[i]!, device[i]!, GradientFactor);
    }

    /// <summary>The reduced precision is really used: the largest matmul case differs from FP32 by more than u/16 of
    /// its scale (an FP32 GEMM would differ by about 1e-7).</summary>
    [Fact]
    public void TheLargestMatmulVisiblyDiffersFromFp32()
    {
        var be = Backend();
        var c = OpTable.Get("matmul/17x20x33");
        var inputs = c.MakeInputs();
        using var scope = TensorScope.Open();
        var cpu = c.Run(BackendOpTests.Upload(CpuBackend.Instance, c, inputs, requireGrad: false)).ToArray();
        var device = c.Run(BackendOpTests.Upload(be, c, inputs, requireGrad: false)).ToArray();
        double scale = cpu.Max(v => Math.Abs((double)v));
        double worst = cpu.Zip(device, (x, y) => Math.Abs((double)x - y)).Max();
        Assert.True(worst > UnitRoundoff / 16 * scale, $"{be.Name}: largest difference from FP32 {worst:E3} is not above u/16·scale = {UnitRoundoff / 16 * scale:E3}: the GEMM did not round its inputs");
    }

    private static readonly GemmShape[] AllShapes =
    [
        new GemmShape(m: 17, n: 33, k: 20),
        new GemmShape(m: 5, n: 7, k: 129, transA: true),
        new GemmShape(m: 9, n: 6, k: 40, transB: true, freezeB: true),
        new GemmShape(m: 8, n: 24, k: 31, transA: true, transB: true, freezeB: true, freezeA: true),
        new GemmShape(m: 6, n: 5, k: 12, batch: 3, aOffset: 7, bOffset: 3, pad: 5, beta: 0.5f),
        new GemmShape(m: 4, n: 9, k: 16, batch: 4, broadcastB: true, freezeB: true, bOffset: 11, pad: 2, alpha: -1.5f),
    ];

    public static TheoryData<string> Shapes() => new(AllShapes.Select(s => s.ToString()));

    /// <summary>
    /// One GEMM (transposes, batches, strides, offsets, padded leading dimensions, frozen weights with their BF16 copy
    /// at an offset, alpha and beta) against the product of the inputs rounded by the test's own reference, summed in
    /// double: since a product of two rounded inputs is exact in FP32, the only difference left is FP32 accumulation,
    /// bounded by (k+2)·2^-24·Σ|a·b|. The same reference with one operand left unrounded, or rounded by truncation, must
    /// differ by more than that bound: so this test fails on an unconverted operand or a wrong rounding mode.
    /// </summary>
    [Theory]
    [MemberData(nameof(Shapes))]
    public void GemmMatchesItsRoundedInputs(string shape)
    {
        var s = AllShapes.Single(x => x.ToString() == shape);
        var be = Backend();
        var rng = new Random(s.GetHashCode());
        float[] Draw(long n) => Enumerable.Range(0, checked((int)n)).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
        float[] a = Draw(s.ALength), b = Draw(s.BLength), c0 = Draw(s.CLength);
        using var scope = TensorScope.Open();
        Tensor ta = Tensor.FromArray(be, a, a.Length), tb = Tensor.FromArray(be, b, b.Length), tc = Tensor.FromArray(be, c0, c0.Length);
        if (s.FreezeA) ta.Storage.Freeze();
        if (s.FreezeB) tb.Storage.Freeze();
        s.Run(be, ta, tb, tc);
        var device = tc.ToArray();

        Func<float, float> round = Precision == GemmPrecision.Bf16 ? RoundBf16 : RoundTf32;
        var (expected, bound) = s.Reference(a, b, c0, round, round);
        if (!RoundingIsKnown)
        {
            // The hardware may truncate instead: allow either rounding (twice u) on top of the accumulation bound.
            var (_, magnitude) = s.Reference(a, b, c0, x => x, x => x);
            for (int i = 0; i < bound.Length; i++) bound[i] += 2 * 2 * UnitRoundoff * magnitude[i] / ((s.K + 2) * Math.Pow(2, -24));
        }
        for (int i = 0; i < device.Length; i++)
            Assert.True(Math.Abs(device[i] - expected[i]) <= bound[i],
                $"{be.Name} {s}: C[{i}] = {device[i]}, rounded-input product {expected[i]}, bound {bound[i]:E3}");
        if (!RoundingIsKnown) return;

        Func<float, float> truncate = Precision == GemmPrecision.Bf16 ? TruncateBf16 : TruncateTf32;
        foreach (var (label, ra, rb) in new (string, Func<float, float>, Func<float, float>)[]
                 { ("A unrounded", x => x, round), ("B unrounded", round, x => x), ("truncated", truncate, truncate) })
        {
            var (wrong, _) = s.Reference(a, b, c0, ra, rb);
            Assert.True(wrong.Zip(device, (w, d) => Math.Abs(w - d)).Where((e, i) => e > bound[i]).Any(),
                $"{s}: the reference with {label} is within the bound too, so this test could not tell");
        }
    }

    private void AssertWithin(string name, string what, float[] cpu, float[] device, double factor)
    {
        Assert.Equal(cpu.Length, device.Length);
        double scale = Math.Max(1e-6, cpu.Max(v => Math.Abs((double)v)));
        double worst = 0;
        int at = 0;
        for (int i = 0; i < cpu.Length; i++)
        {
            double err = Math.Abs((double)device[i] - cpu[i]);
            if (double.IsNaN(device[i]) || err > worst) { worst = double.IsNaN(device[i]) ? double.PositiveInfinity : err; at = i; }
        }
        double tolerance = factor * UnitRoundoff * scale;
        Assert.True(worst <= tolerance,
            $"{name} {what} in {Precision.Name()}: differs from cpu fp32 by {worst:E3} ({worst / scale / UnitRoundoff:F2}·u of the scale) at [{at}] ({device[at]} vs {cpu[at]}), tolerance {factor}·u·scale = {tolerance:E3}");
    }

    /// <summary>Gradients of Σ w·output for every input with Grad = true (null for the others).</summary>
    private static float[]?[] Gradients(IBackend be, OpCase c, double[][] inputs)
    {
        var tensors = BackendOpTests.Upload(be, c, inputs, requireGrad: true);
        var output = c.Run(tensors);
        var rng = new Random(17);
        var weights = Enumerable.Range(0, (int)output.Length).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var w = Tensor.FromArray(be, weights, weights.Length, 1);
        Backprop.Backward(PromptAD.Tensors.Ops.MatMul(PromptAD.Tensors.Ops.Reshape(output, 1, weights.Length), w));
        return tensors.Select(t => t.Grad?.ToArray()).ToArray();
    }

    // The test's own roundings, in double arithmetic (not the bit tricks of convert.cu / Bf16): the nearest value with
    // 8 (BF16) or 11 (TF32) significant bits; ties to even for BF16, away from zero for TF32.
    internal static float RoundBf16(float x) => RoundSignificand(x, 8, tiesAway: false);

    internal static float RoundTf32(float x) => RoundSignificand(x, 11, tiesAway: true);

    private static float TruncateBf16(float x) => BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(x) & 0xFFFF0000);

    private static float TruncateTf32(float x) => BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(x) & 0xFFFFE000);

    private static float RoundSignificand(float x, int bits, bool tiesAway)
    {
        if (x == 0 || !float.IsFinite(x)) return x;
        int exponent = Math.Max(Math.ILogB((double)x), -126); // FP32's subnormals share the smallest exponent
        double step = Math.ScaleB(1.0, exponent - (bits - 1));
        double q = x / step, low = Math.Floor(q), frac = q - low;
        double n = frac > 0.5 ? low + 1 : frac < 0.5 ? low : tiesAway ? (x > 0 ? low + 1 : low) : (low % 2 == 0 ? low : low + 1);
        return (float)(n * step);
    }
}

/// <summary>A strided-batched GEMM of the precision tests, with its double-precision reference.</summary>
public sealed record GemmShape(int m, int n, int k, bool transA = false, bool transB = false, int batch = 1, int aOffset = 0,
    int bOffset = 0, int pad = 0, float alpha = 1f, float beta = 0f, bool freezeA = false, bool freezeB = false, bool broadcastB = false)
{
    public int K => k;
    public bool FreezeA => freezeA;
    public bool FreezeB => freezeB;
    private int Lda => (transA ? m : k) + pad;
    private int Ldb => (transB ? k : n) + pad;
    private int Ldc => n;
    private long StrideA => (long)(transA ? k : m) * Lda;
    private long StrideB => broadcastB ? 0 : (long)(transB ? n : k) * Ldb;
    private long StrideC => (long)m * Ldc;
    public long ALength => aOffset + (batch - 1) * StrideA + (long)(transA ? k : m) * Lda;
    public long BLength => bOffset + (batch - 1) * StrideB + (long)(transB ? n : k) * Ldb;
    public long CLength => batch * StrideC;

    public void Run(IBackend be, Tensor a, Tensor b, Tensor c) =>
        be.Gemm(transA, transB, m, n, k, alpha, a, aOffset, Lda, StrideA, b, bOffset, Ldb, StrideB, beta, c, 0, Ldc, StrideC, batch);

    /// <summary>alpha·op(ra(A))·op(rb(B)) + beta·C in double, and per element the FP32 accumulation bound
    /// (k+2)·2^-24·(|alpha|·Σ|a·b| + |beta·c|).</summary>
    public (double[] Expected, double[] Bound) Reference(float[] a, float[] b, float[] c0, Func<float, float> ra, Func<float, float> rb)
    {
        var expected = new double[c0.Length];
        var bound = new double[c0.Length];
        double gamma = (k + 2) * Math.Pow(2, -24);
        for (int p = 0; p < batch; p++)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double sum = 0, magnitude = 0;
                    for (int l = 0; l < k; l++)
                    {
                        double x = ra(a[aOffset + p * StrideA + (transA ? (long)l * Lda + i : (long)i * Lda + l)]);
                        double y = rb(b[bOffset + p * StrideB + (transB ? (long)j * Ldb + l : (long)l * Ldb + j)]);
                        sum += x * y;
                        magnitude += Math.Abs(x * y);
                    }
                    long at = p * StrideC + (long)i * Ldc + j;
                    expected[at] = alpha * sum + beta * (double)c0[at];
                    bound[at] = gamma * (Math.Abs(alpha) * magnitude + Math.Abs(beta * (double)c0[at]));
                }
        return (expected, bound);
    }

    public override string ToString() =>
        $"{m}x{k}x{n}{(transA ? "_tA" : "")}{(transB ? "_tB" : "")}{(batch > 1 ? $"_b{batch}" : "")}{(freezeA ? "_frozenA" : "")}{(freezeB ? "_frozenB" : "")}";
}

/// <summary>TF32 GEMMs on the emulated GPU (A and B rounded to TF32 before an FP32 GEMM).</summary>
public sealed class EmulatedTf32OpTests : PrecisionOpTests
{
    private static readonly Lazy<CudaBackend> Shared = new(() => new CudaBackend(EmulatedKernels.CreateRuntime(GemmPrecision.Tf32)));

    protected override GemmPrecision Precision => GemmPrecision.Tf32;

    protected override IBackend Backend() => Shared.Value;
}

/// <summary>BF16 GEMMs on the emulated GPU: convert.cu's BF16 buffers and the weights' BF16 copies, read by the GEMM.</summary>
public sealed class EmulatedBf16OpTests : PrecisionOpTests
{
    internal static readonly Lazy<CudaBackend> Shared = new(() => new CudaBackend(EmulatedKernels.CreateRuntime(GemmPrecision.Bf16)));

    protected override GemmPrecision Precision => GemmPrecision.Bf16;

    protected override IBackend Backend() => Shared.Value;
}

/// <summary>The precision tests on the real GPU (skip with the reason where there is none; fail with PROMPTAD_REQUIRE_GPU=1).</summary>
public abstract class CudaPrecisionOpTests : PrecisionOpTests
{
    private static readonly Dictionary<GemmPrecision, (CudaBackend? Backend, string Reason)> Backends = [];

    protected override IBackend Backend()
    {
        (CudaBackend? Backend, string Reason) entry;
        lock (Backends)
            if (!Backends.TryGetValue(Precision, out entry))
                Backends[Precision] = entry = CudaBackend.TryCreate(out var backend, out string reason, Precision) ? (backend, "") : (null, reason);
        if (entry.Backend is null) OptionalPart.CudaGpu.Unavailable(entry.Reason);
        return entry.Backend;
    }
}

/// <summary>BF16 on the GPU: a BF16×BF16 product is exact in FP32, so the rounded-input comparison is as sharp as emulated.</summary>
public sealed class CudaBf16OpTests : CudaPrecisionOpTests
{
    protected override GemmPrecision Precision => GemmPrecision.Bf16;
}

/// <summary>TF32 on the GPU: tensor cores may truncate inputs rather than round them, so u is taken as 2^-10.</summary>
public sealed class CudaTf32PrecisionOpTests : CudaPrecisionOpTests
{
    protected override GemmPrecision Precision => GemmPrecision.Tf32;

    protected override double UnitRoundoff => Math.Pow(2, -10);

    protected override bool RoundingIsKnown => false;
}
