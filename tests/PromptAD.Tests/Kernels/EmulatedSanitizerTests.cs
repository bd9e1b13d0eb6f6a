using PromptAD.Kernels;
using PromptAD.Kernels.Native;
using PromptAD.Tests.Ops;

namespace PromptAD.Tests.Kernels;

/// <summary>
/// Each check of the emulated GPU proven on a planted bug (test-only kernels in Kernels/Planted/planted.cu, or a bad
/// call): the check must catch it with a named error, and the same code without the bug must pass.
/// </summary>
public sealed unsafe class EmulatedSanitizerTests
{
    private const string File = "planted.cu";

    private static float[] Read(EmulatedRuntime rt, ulong p, int n)
    {
        var host = new float[n];
        fixed (float* h = host) rt.CopyDtoH(h, p, (ulong)n * sizeof(float));
        return host;
    }

    private static float[] RunOut(EmulatedRuntime rt, string kernel, int threads, int n, uint shared = 0, int? extra = null)
    {
        ulong o = rt.Allocate((ulong)n * sizeof(float));
        try
        {
            rt.Memset32(o, 0, (ulong)n);
            var args = new KernelArgs().Pointer(o);
            if (extra is int e) args = args.Int(e);
            rt.Launch(File, kernel, 1, (uint)threads, shared, args);
            return Read(rt, o, n);
        }
        finally { rt.Free(o); }
    }

    [Fact]
    public void AMissingBarrierShowsUnderTheDescendingScheduleOnly()
    {
        using var ascending = EmulatedKernels.CreatePlantedRuntime();
        using var descending = EmulatedKernels.CreatePlantedRuntime(new EmulationOptions(EmulatedSchedule.Descending));
        using var random = EmulatedKernels.CreatePlantedRuntime(new EmulationOptions(EmulatedSchedule.Random, Seed: 5));
        float[] expected = [.. Enumerable.Range(0, 64).Select(t => t > 0 ? t - 1f : 0f)];
        Assert.Equal(expected, RunOut(ascending, "planted_missing_barrier", 64, 64)); // the bug hides in thread order
        float[] late = RunOut(descending, "planted_missing_barrier", 64, 64);
        Assert.True(late.Skip(1).All(float.IsNaN), "descending: every read of the neighbour's slot must see the poison");
        Assert.Contains(RunOut(random, "planted_missing_barrier", 64, 64), float.IsNaN);
        foreach (var rt in new[] { ascending, descending, random }) // with the barrier every schedule agrees
            Assert.Equal(expected, RunOut(rt, "planted_with_barrier", 64, 64));
    }

    [Fact]
    public void UninitializedSharedMemoryReadsAsNaN()
    {
        using var rt = EmulatedKernels.CreatePlantedRuntime();
        float[] got = RunOut(rt, "planted_uninitialized_shared", 64, 64);
        for (int t = 0; t < 64; t++)
            if (t % 2 == 0) Assert.Equal(1f, got[t]);
            else Assert.True(float.IsNaN(got[t]), $"slot {t} was never written but read {got[t]}");
        got = RunOut(rt, "planted_uninitialized_shared", 64, 64); // poisoned again: not the previous block's values
        Assert.True(float.IsNaN(got[1]));
    }

    [Fact]
    public void WritingPastDynamicSharedMemoryTripsTheCanary()
    {
        using var rt = EmulatedKernels.CreatePlantedRuntime();
        var e = Assert.Throws<InvalidOperationException>(() => RunOut(rt, "planted_dynamic_shared_overrun", 32, 32, shared: 32 * sizeof(float), extra: 32));
        Assert.Contains("planted_dynamic_shared_overrun", e.Message);
        Assert.Contains("wrote past the end of its dynamic shared memory (128 bytes", e.Message);
        RunOut(rt, "planted_dynamic_shared_overrun", 32, 32, shared: 33 * sizeof(float), extra: 32); // room for d[32]: fine
    }

    [Fact]
    public void FullMaskInAPartialWarpIsNamed()
    {
        using var rt = EmulatedKernels.CreatePlantedRuntime();
        var e = Assert.Throws<InvalidOperationException>(() => RunOut(rt, "planted_full_mask_partial_warp", 16, 16));
        Assert.Contains("kernel planted_full_mask_partial_warp", e.Message);
        Assert.Contains("__shfl_xor_sync at planted.cu:", e.Message);
        Assert.Contains("passes mask 0xffffffff, but the live lanes are 0x0000ffff", e.Message);
        Assert.Equal([.. Enumerable.Range(0, 32).Select(t => (float)(t ^ 1))], RunOut(rt, "planted_full_mask_partial_warp", 32, 32));
    }

    [Fact]
    public void LanesAtDifferentShufflesAreNamed()
    {
        using var rt = EmulatedKernels.CreatePlantedRuntime();
        var e = Assert.Throws<InvalidOperationException>(() => RunOut(rt, "planted_divergent_shuffle", 32, 32));
        Assert.Contains("kernel planted_divergent_shuffle", e.Message);
        Assert.Contains("lanes meet at different warp collectives", e.Message);
    }

    [Fact]
    public void AShuffleFromAnExitedLaneNamesTheKernelAndLine()
    {
        using var rt = EmulatedKernels.CreatePlantedRuntime();
        var e = Assert.Throws<InvalidOperationException>(() => RunOut(rt, "planted_shuffle_from_exited", 32, 32));
        Assert.Matches(@"kernel planted_shuffle_from_exited, block \(0,0,0\), thread \(\d+,0,0\): __shfl_sync at planted\.cu:\d+ reads a lane that has exited", e.Message);
    }

    [Fact]
    public void AnOverrunByOneElementFaultsWithTheKernelAndItsArguments()
    {
        using var rt = EmulatedKernels.CreatePlantedRuntime();
        Assert.True(rt.StrictMemory);
        ulong o = rt.Allocate(5 * sizeof(float));
        var e = Assert.Throws<InvalidOperationException>(() => rt.Launch(File, "planted_overrun_by_one", 1, 32, 0, new KernelArgs().Pointer(o).Int(5)));
        Assert.Contains("kernel planted_overrun_by_one", e.Message);
        Assert.Contains("memory fault", e.Message);
        Assert.Contains($"0 bytes past the end of the allocation at 0x{o:x} (20 bytes)", e.Message);
        Assert.Contains("#1 5 (float", e.Message); // the launch's arguments, the int among them
        // The process survived the fault and the runtime still works.
        rt.Launch(File, "planted_overrun_by_one", 1, 32, 0, new KernelArgs().Pointer(o).Int(4));
        Assert.Equal([1f, 1f, 1f, 1f, 1f], Read(rt, o, 5));
        rt.Free(o);
    }

    [Fact]
    public void ArgumentCountAndPointerAlignmentAreCheckedAgainstTheSignature()
    {
        using var rt = EmulatedKernels.CreatePlantedRuntime();
        ulong x = rt.Allocate(64), y = rt.Allocate(64);
        var e = Assert.Throws<InvalidOperationException>(() => rt.Launch(File, "planted_three_params", 1, 4, 0, new KernelArgs().Pointer(x).Pointer(y)));
        Assert.Contains("kernel planted_three_params takes 3 arguments, the launch passes 2", e.Message);
        e = Assert.Throws<InvalidOperationException>(() => rt.Launch(File, "planted_three_params", 1, 4, 0, new KernelArgs().Pointer(x + 2).Pointer(y).Int(4)));
        Assert.Contains("pointer argument 0", e.Message);
        Assert.Contains("not aligned to its pointee's 4 bytes", e.Message);
        rt.Launch(File, "planted_three_params", 1, 4, 0, new KernelArgs().Pointer(x).Pointer(y).Int(4));
        rt.Free(x);
        rt.Free(y);
    }

    [Fact]
    public void AHostReadBeforeItsFenceSeesPoisonInDeferredMode()
    {
        using var rt = EmulatedKernels.CreatePlantedRuntime(new EmulationOptions(Deferred: true));
        ulong d = rt.Allocate(4 * sizeof(float));
        float* pinned = (float*)rt.AllocateHost(4 * sizeof(float));
        rt.Memset32(d, BitConverter.SingleToUInt32Bits(3f), 4);
        rt.CopyDtoHAsync(pinned, d, 4 * sizeof(float));
        ulong fence = rt.RecordFence();
        Assert.False(rt.FenceReached(fence)); // nothing ran yet
        Assert.True(float.IsNaN(pinned[0]), "a read that did not wait must see the poison, not the value");
        rt.WaitFence(fence);
        Assert.True(rt.FenceReached(fence));
        Assert.Equal(3f, pinned[0]);
        rt.ReleaseFence(fence);
        rt.FreeHost(pinned);
        rt.Free(d);
    }

    [Fact]
    public void AFreedPointerInAReplayedGraphIsNamed()
    {
        using var rt = EmulatedKernels.CreatePlantedRuntime();
        ulong keep = rt.Allocate(64), gone = rt.Allocate(64);
        rt.BeginCapture();
        rt.Memset32(keep, 1, 16);
        rt.Launch(File, "planted_three_params", 1, 16, 0, new KernelArgs().Pointer(keep).Pointer(gone).Int(16));
        using var graph = rt.EndCapture();
        rt.LaunchGraph(graph); // every pointer live: fine
        rt.Free(gone);
        var e = Assert.Throws<InvalidOperationException>(() => rt.LaunchGraph(graph));
        Assert.Contains("graph replay: node 1 (kernel planted_three_params (planted.cu)) uses", e.Message);
        Assert.Contains("in no live allocation", e.Message);
        rt.Free(keep);
    }

    [Fact]
    public void ACublasCallWithABadLeadingDimensionIsRefused()
    {
        using var rt = EmulatedKernels.CreatePlantedRuntime();
        ulong a = rt.Allocate(4 * 6 * 4), b = rt.Allocate(6 * 5 * 4), c = rt.Allocate(4 * 5 * 4);
        // Row-major A (4×6) needs lda ≥ 6.
        var e = Assert.Throws<CublasException>(() => rt.Gemm(false, false, 4, 5, 6, 1f, a, 5, 0, b, 5, 0, 0f, c, 5, 0, 1));
        Assert.Equal(CublasStatus.InvalidValue, e.Status);
        Assert.Contains("lda = 5 is below max(1, k = 6)", e.Message);
        e = Assert.Throws<CublasException>(() => rt.GemmBf16(false, false, 4, 5, 6, 1f, a + 1, 6, 0, b, 5, 0, 0f, c, 5, 0, 1));
        Assert.Contains("A at", e.Message);
        e = Assert.Throws<CublasException>(() => rt.Gemm(false, false, 4, 5, 6, 1f, a, 6, 0, b, 5, 0, 0f, c, 5, 4, 2));
        Assert.Contains("batches of C overlap", e.Message);
        rt.Gemm(false, false, 4, 5, 6, 1f, a, 6, 0, b, 5, 0, 0f, c, 5, 0, 1); // the right call passes
        foreach (ulong p in new[] { a, b, c }) rt.Free(p);
    }

    [Fact]
    public void ThePoolNeverTrimsDuringACaptureAndRentsExactSizesWhenStrict()
    {
        using var rt = EmulatedKernels.CreatePlantedRuntime();
        using var pool = new DeviceMemoryPool(rt, caching: true);
        Assert.True(pool.Exact);
        ulong p = pool.Rent(20);
        pool.Return(p);
        pool.BeginCapture();
        var e = Assert.Throws<InvalidOperationException>(pool.Trim);
        Assert.Contains("during a graph capture", e.Message);
        pool.EndCapture();
        pool.Trim();
        Assert.Equal(0, rt.LiveAllocations);
    }
}
