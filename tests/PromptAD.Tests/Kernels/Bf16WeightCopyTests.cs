using PromptAD.Clip;
using PromptAD.Kernels;
using PromptAD.Profiling;
using PromptAD.Tensors;
using PromptAD.Tests.Ops;
using PromptAD.Training;
using O = PromptAD.Tensors.Ops;

namespace PromptAD.Tests.Kernels;

/// <summary>
/// The BF16 path's bookkeeping on the emulated GPU: frozen weights are converted once and their copy reused, other
/// tensors are converted at every GEMM (so a tensor written between GEMMs is read fresh), frozen tensors refuse writes,
/// the copy goes back to the pool with its tensor, and a training step still allocates nothing once warm.
/// </summary>
public sealed class Bf16WeightCopyTests
{
    /// <summary>Stated launch budget per tiny-test training step in BF16: the FP32 budget plus one conversion per GEMM
    /// whose operands are not all frozen weights.</summary>
    public const int Bf16LaunchBudget = 400;

    private static (CudaBackend Backend, EmulatedRuntime Runtime) Create()
    {
        var runtime = EmulatedKernels.CreateRuntime(GemmPrecision.Bf16);
        return (new CudaBackend(runtime), runtime);
    }

    [Fact]
    public void AFrozenWeightIsConvertedOnceAndActivationsAtEveryGemm()
    {
        var (be, runtime) = Create();
        using var _ = be;
        using var weight = Tensor.FromArray(be, Values(40, 1), 5, 8);
        weight.Storage.Freeze();
        using var scope = TensorScope.Open();
        var x = Tensor.FromArray(be, Values(24, 2), 3, 8);

        var before = runtime.Counters.Snapshot();
        var y1 = O.Linear(x, weight).ToArray();
        var first = runtime.Counters.Snapshot() - before;
        var y2 = O.Linear(x, weight).ToArray();
        var second = runtime.Counters.Snapshot() - before - first;

        Assert.Equal(2, first.KernelLaunches); // the weight's copy, then the activation
        Assert.Equal(1, second.KernelLaunches); // the activation only: the weight's copy is reused
        Assert.Equal(y1, y2);
        AssertLinear(Values(24, 2), Values(40, 1), y2, rows: 3, inF: 8, outF: 5);
    }

    [Fact]
    public void ATensorWrittenBetweenGemmsIsReadFresh()
    {
        var (be, _) = Create();
        using var __ = be;
        using var scope = TensorScope.Open();
        var weight = Tensor.FromArray(be, Values(40, 3), 5, 8); // not frozen: a learned tensor
        var x = Tensor.FromArray(be, Values(16, 4), 2, 8);
        O.Linear(x, weight).ToArray();
        weight.CopyFrom(Values(40, 5));
        AssertLinear(Values(16, 4), Values(40, 5), O.Linear(x, weight).ToArray(), rows: 2, inF: 8, outF: 5);
    }

    [Fact]
    public void AFrozenTensorRefusesWrites()
    {
        var (be, _) = Create();
        using var __ = be;
        using var scope = TensorScope.Open();
        var weight = Tensor.FromArray(be, Values(8, 1), 2, 4);
        weight.Storage.Freeze();
        var other = Tensor.FromArray(be, Values(8, 2), 2, 4);
        Assert.Contains("frozen", Assert.Throws<InvalidOperationException>(() => weight.CopyFrom(Values(8, 3))).Message);
        Assert.Contains("frozen", Assert.Throws<InvalidOperationException>(() => be.Fill(weight, 0f)).Message);
        Assert.Contains("frozen", Assert.Throws<InvalidOperationException>(() => be.Copy(other, weight)).Message);
        Assert.Contains("frozen", Assert.Throws<InvalidOperationException>(() =>
            be.Gemm(false, true, 2, 2, 4, 1f, other, 0, 4, 0, other, 0, 4, 0, 0f, weight, 0, 2, 0, 1)).Message);
    }

    [Fact]
    public void TheWeightCopyGoesBackToThePoolWithItsTensor()
    {
        var (be, _) = Create();
        using var __ = be;
        long inUse = be.Memory.Stats.InUseBytes;
        using (var scope = TensorScope.Open())
        {
            var weight = Tensor.FromArray(be, Values(4000, 1), 500, 8);
            weight.Storage.Freeze();
            O.Linear(Tensor.FromArray(be, Values(8, 2), 1, 8), weight).ToArray();
        }
        Assert.Equal(inUse, be.Memory.Stats.InUseBytes);
    }

    [Fact]
    public void ClipWeightsAreFrozen()
    {
        using var weights = ClipWeights.Random(ClipConfigs.Load("tiny-test"), PromptAD.Tensors.Cpu.CpuBackend.Instance, seed: 1);
        Assert.All(weights.Tensors.Values, t => Assert.True(t.Storage.IsFrozen));
    }

    [Theory]
    [InlineData(PromptHead.Image)]
    [InlineData(PromptHead.Pixel)]
    public void ATrainingStepInBf16AllocatesNothingOnceWarm(PromptHead head)
    {
        var step = MeasuredBf16.Value.Profile.SteadyTrainingStep(head);
        Assert.Equal(0, step.Allocations);
        Assert.Equal(0, step.Frees);
        Assert.Equal(0, step.Synchronizations);
        Assert.Equal(0, step.HostToDevice);
        Assert.InRange(step.Launches, 1, Bf16LaunchBudget);
        Assert.Equal(0, MeasuredBf16.Value.Profile.SteadyScoringBatch.Allocations);
        Assert.Equal(0, MeasuredBf16.Value.LiveAfterDispose);
    }

    private static readonly Lazy<(DeviceProfile Profile, int LiveAfterDispose)> MeasuredBf16 =
        new(() => DeviceBudgetTests.Measure(graphs: true, GemmPrecision.Bf16), LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Every GEMM of the backend goes through its precision dispatch: a direct runtime GEMM would stay FP32 in BF16 mode.</summary>
    [Fact]
    public void EveryBackendGemmGoesThroughThePrecisionDispatch()
    {
        string folder = Path.Combine(EmulatedKernels.RepositoryRoot(), "src", "Kernels", "Backend");
        var direct = Directory.GetFiles(folder, "*.cs")
            .Where(f => Path.GetFileName(f) != "CudaBackend.Precision.cs")
            .SelectMany(f => File.ReadAllLines(f).Select((line, i) => (File: Path.GetFileName(f), Line: i + 1, Text: line)))
            .Where(l => l.Text.Contains("Runtime.Gemm", StringComparison.Ordinal) || l.Text.Contains("Runtime.GemmBf16", StringComparison.Ordinal))
            .Select(l => $"{l.File}:{l.Line}").ToList();
        Assert.True(direct.Count == 0, $"GEMMs that bypass DeviceGemm: {string.Join(", ", direct)}");
    }

    /// <summary>y = x·Wᵀ against the product of the inputs rounded to BF16 by the test's own rounding, in double.</summary>
    private static void AssertLinear(float[] x, float[] w, float[] y, int rows, int inF, int outF)
    {
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < outF; o++)
            {
                double sum = 0, magnitude = 0;
                for (int i = 0; i < inF; i++)
                {
                    double p = (double)PrecisionOpTests.RoundBf16(x[r * inF + i]) * PrecisionOpTests.RoundBf16(w[o * inF + i]);
                    sum += p;
                    magnitude += Math.Abs(p);
                }
                Assert.True(Math.Abs(y[r * outF + o] - sum) <= (inF + 2) * Math.Pow(2, -24) * magnitude,
                    $"y[{r},{o}] = {y[r * outF + o]}, expected {sum} from BF16-rounded inputs");
            }
    }

    private static float[] Values(int n, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
    }
}
