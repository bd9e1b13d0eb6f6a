using PromptAD.Kernels;
using PromptAD.Tensors;
using PromptAD.Tensors.Cpu;
using PromptAD.Tests.Ops;

namespace PromptAD.Tests.Kernels;

/// <summary>
/// Capture and replay on the emulated GPU: a capture records and runs nothing, a replay runs what was recorded with the
/// arguments of the capture, CUDA's refusals during a capture are refusals here, and memory touched by a capture stays
/// reserved to its graph until the graph is disposed.
/// </summary>
public sealed class GraphCaptureTests
{
    [Fact]
    public void ACaptureRunsNothingAndEachReplayRunsTheRecordedWorkWithTheCapturedArguments()
    {
        using var runtime = EmulatedKernels.CreateRuntime();
        using var backend = new CudaBackend(runtime, ownsRuntime: false);
        using var x = Tensor.FromArray(backend, [1f, 2f, 3f], 3);
        using var y = Tensor.Zeros(backend, 3);
        float alpha = 2f;
        var before = runtime.Counters.Snapshot();
        using var step = backend.CaptureStep(() => backend.Axpby(alpha, x, 1f, y, y)); // y += alpha·x
        Assert.True(step.IsGraph);
        Assert.Equal(new DeviceCounts(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), runtime.Counters.Snapshot() - before);
        Assert.Equal([0f, 0f, 0f], y.ToArray());
        Assert.Equal(1, ((CudaBackend.GraphStep)step).Contents.KernelLaunches);

        alpha = 100f; // a host value is baked into the graph: the replay still uses 2
        var replays = runtime.Counters.Snapshot();
        step.Replay();
        step.Replay();
        var counted = runtime.Counters.Snapshot() - replays;
        Assert.Equal(2, counted.GraphLaunches);
        Assert.Equal(0, counted.KernelLaunches);
        Assert.Equal([4f, 8f, 12f], y.ToArray());
    }

    [Fact]
    public void WhatCudaRefusesDuringACaptureThrowsAndNamesTheCall()
    {
        using var runtime = EmulatedKernels.CreateRuntime();
        using var backend = new CudaBackend(runtime, ownsRuntime: false);
        using var t = Tensor.Zeros(backend, 4);
        var host = new float[4];
        (string Call, Action Act)[] refused =
        [
            ("host-to-device copy from pageable memory", () => backend.Upload(host, t)),
            ("synchronous device-to-host copy", () => backend.Download(t, host)),
            ("synchronization", backend.Synchronize),
            ("device allocation", () => runtime.Allocate(64)),
            ("fence (event) record", () => runtime.RecordFence()),
        ];
        foreach (var (call, act) in refused)
        {
            var e = Assert.Throws<InvalidOperationException>(() => backend.CaptureStep(act));
            Assert.Contains(call, e.Message);
        }
        // The failed captures left nothing running: plain work runs again.
        backend.Fill(t, 3f);
        Assert.Equal([3f, 3f, 3f, 3f], t.ToArray());
    }

    [Fact]
    public void MemoryRentedOrReturnedDuringACaptureIsReservedToTheGraphUntilItIsDisposed()
    {
        using var runtime = EmulatedKernels.CreateRuntime();
        using var backend = new CudaBackend(runtime, ownsRuntime: false);
        using var x = Tensor.FromArray(backend, [1f, 2f], 2);
        using (TensorScope.Open()) Tensor.Zeros(backend, 2); // a cached block for the capture to take
        ulong graphBlock = 0;
        var step = backend.CaptureStep(() =>
        {
            using var temp = Tensor.Empty(backend, 2);
            graphBlock = ((CudaStorage)temp.Storage).Pointer;
            backend.Copy(x, temp);
            backend.Axpby(1f, temp, 1f, x, x);
        });
        Assert.Equal(1, backend.Memory.GraphBlocks);
        using (var other = Tensor.Empty(backend, 2)) // other code never gets the graph's temporary, which replays overwrite
            Assert.NotEqual(graphBlock, ((CudaStorage)other.Storage).Pointer);
        step.Replay();
        Assert.Equal([2f, 4f], x.ToArray());
        step.Dispose();
        Assert.Equal(0, backend.Memory.GraphBlocks);
        using (var again = Tensor.Empty(backend, 2)) // now back in the shared cache
            Assert.Equal(graphBlock, ((CudaStorage)again.Storage).Pointer);
    }

    [Fact]
    public void WithoutGraphsAndOnTheCpuAReplayRunsTheStepAgain()
    {
        int runs = 0;
        using var cpu = CpuBackend.Instance.CaptureStep(() => runs++);
        Assert.False(cpu.IsGraph);
        Assert.Equal(0, runs);
        cpu.Replay();
        cpu.Replay();
        Assert.Equal(2, runs);

        using var runtime = EmulatedKernels.CreateRuntime();
        using var backend = new CudaBackend(runtime, ownsRuntime: false) { UseGraphs = false };
        using var step = backend.CaptureStep(() => runs++);
        Assert.False(step.IsGraph);
        step.Replay();
        Assert.Equal(3, runs);
    }

    [Fact]
    public void AnIndexArrayReadByAGraphStaysOnTheDeviceWhileTheCacheEvictsOthers()
    {
        using var runtime = EmulatedKernels.CreateRuntime();
        using var backend = new CudaBackend(runtime, ownsRuntime: false);
        using var x = Tensor.FromArray(backend, [10f, 11f, 12f, 13f], 4, 1);
        using var y = Tensor.Zeros(backend, 2, 1);
        int[] reversed = [3, 2];
        backend.GatherRows(x, reversed, y); // uploads the indices (outside the capture)
        using var step = backend.CaptureStep(() => backend.GatherRows(x, reversed, y));
        using (var other = Tensor.Zeros(backend, 5, 1))
            for (int i = 0; i < 600; i++) // 600 distinct arrays: more than the cache keeps (512), so it evicts
                backend.GatherRows(x, [i % 4, i / 4 % 4, i / 16 % 4, i / 64 % 4, i / 256 % 4], other);
        backend.Fill(y, 0f);
        step.Replay();
        Assert.Equal([13f, 12f], y.ToArray());
    }
}
