using PromptAD.Kernels;
using PromptAD.Tensors;
using PromptAD.Tests.Ops;

namespace PromptAD.Tests.Kernels;

/// <summary>The caching allocator, counted on an emulated runtime of its own.</summary>
public sealed class DeviceMemoryPoolTests
{
    [Theory]
    [InlineData(1UL, 512UL)]
    [InlineData(512UL, 512UL)]
    [InlineData(513UL, 1024UL)]
    [InlineData(1UL << 20, 1UL << 20)]
    [InlineData((1UL << 20) + 1, (1UL << 20) + (1UL << 17))] // next power 2 MiB, steps of 128 KiB
    [InlineData(3_000_000UL, 3_145_728UL)] // steps of 256 KiB below 4 MiB
    public void SizeClassesRoundUpWithBoundedWaste(ulong bytes, ulong expected)
    {
        Assert.Equal(expected, DeviceMemoryPool.SizeClass(bytes));
    }

    [Fact]
    public void ReturnedBlocksAreReusedWithoutDriverCallsAndTrimGivesThemBack()
    {
        using var runtime = EmulatedKernels.CreateRuntime(options: new EmulationOptions(StrictMemory: false)); // size classes
        using var pool = new DeviceMemoryPool(runtime, caching: true);
        ulong a = pool.Rent(1000), b = pool.Rent(5000);
        var afterWarmUp = runtime.Counters.Snapshot();
        Assert.Equal(2, afterWarmUp.Allocations);
        pool.Return(a);
        pool.Return(b);
        for (int i = 0; i < 10; i++) pool.Return(pool.Rent(900)); // same class as 1000 bytes
        ulong c = pool.Rent(4700);
        Assert.Equal(b, c);
        var steady = runtime.Counters.Snapshot() - afterWarmUp;
        Assert.Equal(0, steady.Allocations);
        Assert.Equal(0, steady.Frees);
        Assert.Equal(1024 + 5120, pool.Stats.PeakInUseBytes);
        pool.Return(c);
        pool.Trim();
        Assert.Equal(0, runtime.LiveAllocations);
        Assert.Equal(0, pool.Stats.ReservedBytes);
        Assert.Throws<InvalidOperationException>(() => pool.Return(c));
    }

    [Fact]
    public void WithoutCachingEveryReturnIsADriverFree()
    {
        using var runtime = EmulatedKernels.CreateRuntime();
        using var pool = new DeviceMemoryPool(runtime, caching: false);
        for (int i = 0; i < 3; i++) pool.Return(pool.Rent(100));
        Assert.Equal(3, runtime.Counters.Snapshot().Frees);
        Assert.Equal(0, runtime.LiveAllocations);
    }

    [Fact]
    public void DisposingTheBackendReturnsItsMemoryToTheDriver()
    {
        using var runtime = EmulatedKernels.CreateRuntime();
        var backend = new CudaBackend(runtime, ownsRuntime: false);
        using (TensorScope.Open())
        {
            for (int i = 0; i < 5; i++) Tensor.Zeros(backend, 100 + i, 7).Dispose();
            _ = Tensor.Zeros(backend, 3, 3);
        }
        Assert.True(runtime.LiveAllocations > 0); // cached blocks are held
        Assert.Equal(0, backend.Memory.Stats.InUseBytes);
        var outlives = Tensor.Zeros(backend, 4, 4); // a tensor disposed after its backend goes straight back to the driver
        backend.Dispose();
        Assert.Equal(1, runtime.LiveAllocations);
        outlives.Dispose();
        Assert.Equal(0, runtime.LiveAllocations);
    }
}
