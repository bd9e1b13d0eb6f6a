using PromptAD.Kernels;
using PromptAD.Kernels.Native;

namespace PromptAD.Tests.Kernels;

/// <summary>How an asynchronous fault is reported: with the ops queued before it, and never lost at a free.</summary>
public sealed class LaunchHistoryTests
{
    [Fact]
    public void AFaultNamesTheLatestOpsFirstAndKeepsOnlyTheLastSixteen()
    {
        var history = new LaunchHistory();
        for (int i = 0; i < 20; i++) history.Record($"op{i}");
        Assert.Equal(16, history.Recent().Count);
        Assert.Equal("op4", history.Recent()[0]);
        var e = history.Named(new CudaException("cuStreamSynchronize", CUresult.IllegalAddress));
        Assert.Contains("latest first: op19, op18", e.Message);
        Assert.Contains("cuStreamSynchronize", e.Message);
        Assert.Contains("PROMPTAD_CUDA_SYNC=1", e.Message);
        Assert.IsType<CudaException>(e.InnerException);
    }

    [Fact]
    public void AFaultSeenAtAFreeIsThrownAtTheNextSynchronizationOnce()
    {
        var history = new LaunchHistory();
        history.Record("layernorm_forward");
        history.ThrowPending(); // nothing kept: no throw
        history.Defer(new CudaException("cuMemFree_v2", CUresult.IllegalAddress));
        var e = Assert.Throws<InvalidOperationException>(history.ThrowPending);
        Assert.Contains("cuMemFree_v2", e.Message);
        Assert.Contains("layernorm_forward", e.Message);
        history.ThrowPending(); // reported once
    }
}
