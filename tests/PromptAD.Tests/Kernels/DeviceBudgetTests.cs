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
    private static readonly Lazy<(DeviceProfile Profile, int LiveAfterDispose)> Measured = new(Measure, LazyThreadSafetyMode.ExecutionAndPublication);

    private static (DeviceProfile, int) Measure()
    {
        using var runtime = EmulatedKernels.CreateRuntime();
        DeviceProfile profile;
        using (var backend = new CudaBackend(runtime, ownsRuntime: false))
            profile = DeviceProfiler.Run(backend, ClipConfigs.Load("tiny-test"), new DeviceProfiler.Options(Shots: 1, Epochs: 3, Batches: 2, BatchSize: 2));
        return (profile, runtime.LiveAllocations);
    }

    [Theory]
    [InlineData(PromptHead.Image)]
    [InlineData(PromptHead.Pixel)]
    public void ATrainingStepAfterWarmUpAllocatesAndFreesNothing(PromptHead head)
    {
        var step = Measured.Value.Profile.SteadyTrainingStep(head);
        Assert.Equal(0, step.Allocations);
        Assert.Equal(0, step.Frees);
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
