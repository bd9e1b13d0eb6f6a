using PromptAD.Clip;
using PromptAD.Kernels;
using PromptAD.Profiling;
using PromptAD.Tests.Ops;
using PromptAD.Training;

namespace PromptAD.Tests.Kernels;

/// <summary>
/// The steady-state budget of the GPU backend (README, "Device budget"), counted on the emulated GPU: the real
/// Trainer and Detector on a random tiny model, through <see cref="DeviceProfiler"/> (the `profile` verb's engine),
/// on a runtime of its own so parallel tests do not add to its counts.
/// </summary>
public sealed class DeviceBudgetTests
{
    /// <summary>Steps per head: two plain steps (momentum, then the steady step that fills the pool), the third is
    /// captured and replayed, the fourth is a replay and is measured (README).</summary>
    private const int Steps = 4;

    /// <summary>The README's stated launch budget per tiny-test training step (kernels, GEMMs, memsets, device copies):
    /// the plain step's, and the work inside one replay of the captured step. The pixel head's margin as published
    /// (SPEC §5.3: two prototype spreads by row gather, their scatter-add gradients) takes it to 208.</summary>
    public const int LaunchBudget = 210;

    private static readonly Lazy<(DeviceProfile Profile, int LiveAfterDispose)> Measured = new(() => Measure(graphs: true), LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly Lazy<(DeviceProfile Profile, int LiveAfterDispose)> MeasuredPlain = new(() => Measure(graphs: false), LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Profiles the tiny model on an emulated runtime of its own; also the set-up of other precisions' budgets.
    /// The pool rounds to size classes here, as on a GPU: the budget is the production pool's (strict memory's exact
    /// sizes share fewer blocks, so a captured graph's private pool can take one that the next plain encode needs).</summary>
    internal static (DeviceProfile Profile, int LiveAfterDispose) Measure(bool graphs, GemmPrecision precision = GemmPrecision.Fp32)
    {
        using var runtime = EmulatedKernels.CreateRuntime(precision, new EmulationOptions(StrictMemory: false));
        DeviceProfile profile;
        using (var backend = new CudaBackend(runtime, ownsRuntime: false) { UseGraphs = graphs })
            profile = DeviceProfiler.Run(backend, ClipConfigs.Load("tiny-test"),
                new DeviceProfiler.Options(Shots: 1, Epochs: Steps, Batches: graphs ? 2 : 1, BatchSize: 2));
        return (profile, runtime.LiveAllocations);
    }

    [Theory]
    [InlineData(PromptHead.Image)]
    [InlineData(PromptHead.Pixel)]
    public void ATrainingStepAfterWarmUpIsOneGraphLaunchAndNothingElse(PromptHead head)
    {
        var step = Measured.Value.Profile.SteadyTrainingStep(head);
        Assert.Equal(new DeviceCounts(0, 0, GraphLaunches: 1, 0, 0, 0, 0, 0, 0, 0, 0, 0), step);
        // What the replay runs inside the graph: the whole step, its losses kept on the device.
        var inside = Measured.Value.Profile.TrainingGraph(head) ?? throw new InvalidOperationException("the step was not captured");
        Assert.Equal(0, inside.Allocations + inside.Frees + inside.Synchronizations + inside.HostToDevice + inside.DeviceToHost);
        Assert.Equal(0, inside.GraphLaunches);
        Assert.InRange(inside.Launches, 1, LaunchBudget);
    }

    [Theory]
    [InlineData(PromptHead.Image)]
    [InlineData(PromptHead.Pixel)]
    public void WithoutGraphsATrainingStepAfterWarmUpStaysWithinTheBudgetAndCopiesNothingToTheHost(PromptHead head)
    {
        var step = MeasuredPlain.Value.Profile.SteadyTrainingStep(head);
        Assert.Null(MeasuredPlain.Value.Profile.TrainingGraph(head));
        Assert.Equal(0, step.Allocations);
        Assert.Equal(0, step.Frees);
        Assert.Equal(0, step.Synchronizations);
        Assert.Equal(0, step.HostToDevice);
        Assert.Equal(0, step.DeviceToHost); // the losses stay in the history on the device, read every few epochs
        Assert.Equal(0, step.GraphLaunches);
        Assert.InRange(step.Launches, 1, LaunchBudget);
        // The same work as one replay of the captured step.
        Assert.Equal(Measured.Value.Profile.TrainingGraph(head), step);
    }

    [Fact]
    public void AScoringBatchAfterWarmUpAllocatesAndFreesNothing()
    {
        var batch = Measured.Value.Profile.SteadyScoringBatch;
        Assert.Equal(0, batch.Allocations);
        Assert.Equal(0, batch.Frees);
        // The second batch of a size is scored by its captured graph: encoding stays plain, scoring is one launch.
        Assert.Equal(1, batch.GraphLaunches);
    }

    [Fact]
    public void DisposingTheBackendLeavesNoDeviceMemory()
    {
        Assert.Equal(0, Measured.Value.LiveAfterDispose);
        Assert.Equal(0, MeasuredPlain.Value.LiveAfterDispose);
        Assert.True(Measured.Value.Profile.Memory.PeakReservedBytes > 0);
    }
}
