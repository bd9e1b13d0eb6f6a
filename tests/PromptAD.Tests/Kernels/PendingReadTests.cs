using PromptAD.Kernels;
using PromptAD.Tensors;
using PromptAD.Tensors.Cpu;
using PromptAD.Tests.Ops;

namespace PromptAD.Tests.Kernels;

/// <summary>Reads queued behind the device's work (the training loop's losses) on the emulated GPU and the CPU.</summary>
public sealed class PendingReadTests
{
    [Fact]
    public void ValuesOfSeveralTensorsArriveInOrderWithoutASynchronization()
    {
        using var runtime = EmulatedKernels.CreateRuntime();
        using var backend = new CudaBackend(runtime, ownsRuntime: false);
        using var scope = TensorScope.Open();
        var a = Tensor.FromArray(backend, [1.5f], 1);
        var b = Tensor.FromArray(backend, [2f, -3f], 2);
        var before = runtime.Counters.Snapshot();
        using var read = backend.ReadLater([a, b]);
        a.Dispose(); // the sources may go once the read is queued
        Assert.True(read.IsReady);
        Assert.Equal([1.5f, 2f, -3f], read.Values());
        var counts = runtime.Counters.Snapshot() - before;
        Assert.Equal(0, counts.Synchronizations);
        Assert.Equal(1, counts.DeviceToHost);
        Assert.Equal(12, counts.DeviceToHostBytes);
    }

    [Fact]
    public void SlotsAreReusedAndLargeReadsStillWork()
    {
        using var runtime = EmulatedKernels.CreateRuntime();
        using var backend = new CudaBackend(runtime, ownsRuntime: false);
        using var scope = TensorScope.Open();
        for (int i = 0; i < 200; i++) // more than the pinned slots: each read gives its slot back
        {
            using var read = backend.ReadLater([Tensor.FromArray(backend, [i], 1)]);
            Assert.Equal(i, read.Values()[0]);
        }
        var large = Enumerable.Range(0, 1000).Select(i => (float)i).ToArray();
        using var big = backend.ReadLater([Tensor.FromArray(backend, large, 1000)]);
        Assert.Equal(large, big.Values());
    }

    [Fact]
    public void TheCpuReadsOnTheSpot()
    {
        using var scope = TensorScope.Open();
        using var read = CpuBackend.Instance.ReadLater([Tensor.FromArray(CpuBackend.Instance, [4f, 5f], 2)]);
        Assert.True(read.IsReady);
        Assert.Equal([4f, 5f], read.Values());
    }
}
