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
    /// <summary>Steps per head: the pool settles after three (README), the fourth is measured.</summary>
    private const int Steps = 4;

    /// <summary>The README's stated launch budget per tiny-test training step (kernels, GEMMs, memsets, device copies).</summary>
    public const int LaunchBudget = 205;

    private static readonly Lazy<(DeviceProfile Profile, int LiveAfterDispose)> Measured = new(Measure, LazyThreadSafetyMode.ExecutionAndPublication);

    private static (DeviceProfile, int) Measure()
    {
        using var runtime = EmulatedKernels.CreateRuntime();
        DeviceProfile profile;
        using (var backend = new CudaBackend(runtime, ownsRuntime: false))
            profile = DeviceProfiler.Run(backend, ClipConfigs.Load("tiny-test"), new DeviceProfiler.Options(Shots: 1, Epochs: Steps, Batches: 2, BatchSize: 2));
        return (profile, runtime.LiveAllocations);
    }

    [Theory]
    [InlineData(PromptHead.Image)]
    [InlineData(PromptHead.Pixel)]
    public void ATrainingStepAfterWarmUpStaysWithinTheBudget(PromptHead head)
    {
        var step = Measured.Value.Profile.SteadyTrainingStep(head);
        Assert.Equal(0, step.Allocations);
        Assert.Equal(0, step.Frees);
        Assert.Equal(0, step.Synchronizations);
        Assert.Equal(0, step.HostToDevice);
        // The only host copy: the step's four losses, queued into pinned memory for the progress line.
        Assert.Equal(1, step.DeviceToHost);
        Assert.Equal(4 * sizeof(float), step.DeviceToHostBytes);
        Assert.InRange(step.Launches, 1, LaunchBudget);
    }

    [Fact]
    public void AScoringBatchAfterWarmUpAllocatesAndFreesNothing()
    {
        var batch = Measured.Value.Profile.SteadyScoringBatch;
        Assert.Equal(0, batch.Allocations);
        Assert.Equal(0, batch.Frees);
    }

    [Fact]
    public void DisposingTheBackendLeavesNoDeviceMemory()
    {
        Assert.Equal(0, Measured.Value.LiveAfterDispose);
        Assert.True(Measured.Value.Profile.Memory.PeakReservedBytes > 0);
    }
}
