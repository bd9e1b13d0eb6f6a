using System.Runtime.CompilerServices;
using PromptAD.Tensors;
using PromptAD.Tensors.Cpu;

namespace PromptAD.Tests.Tensors.Cpu;

/// <summary>Large CPU tensors reuse freed blocks of their size; the idle memory stays under its bound.</summary>
public sealed unsafe class HostBlockPoolTests
{
    // Sizes no other test allocates, so concurrent tests cannot take these blocks in between.
    private const int Rows = 257, Cols = 1031;

    [Fact]
    public void AFreedLargeTensorsBlockServesTheNextOfItsSize()
    {
        float* first;
        using (var a = Tensor.Empty(CpuBackend.Instance, Rows, Cols))
            first = (float*)Unsafe.AsPointer(ref CpuBackend.Span(a)[0]);
        using var b = Tensor.Empty(CpuBackend.Instance, Rows, Cols);
        Assert.True(first == (float*)Unsafe.AsPointer(ref CpuBackend.Span(b)[0]));
        using var c = Tensor.Empty(CpuBackend.Instance, Rows, Cols); // none idle now: a new block
        Assert.True((float*)Unsafe.AsPointer(ref CpuBackend.Span(c)[0]) != (float*)Unsafe.AsPointer(ref CpuBackend.Span(b)[0]));
    }

    [Fact]
    public void NewSizesDisplaceTheLeastRecentlyFreedBlocks()
    {
        // Fill the pool with one size, then free a block of another: the newcomer is kept (the oldest go instead).
        int blocks = (int)(HostBlockPool.MaxCachedBytes / (4L << 20)) + 2;
        var old = Enumerable.Range(0, blocks).Select(_ => Tensor.Empty(CpuBackend.Instance, 1024, 1024 + 5)).ToList();
        foreach (var t in old) t.Dispose();
        float* freed;
        using (var fresh = Tensor.Empty(CpuBackend.Instance, Rows + 1, Cols))
            freed = (float*)Unsafe.AsPointer(ref CpuBackend.Span(fresh)[0]);
        using var again = Tensor.Empty(CpuBackend.Instance, Rows + 1, Cols);
        Assert.True(freed == (float*)Unsafe.AsPointer(ref CpuBackend.Span(again)[0]));
    }

    [Fact]
    public void IdleBlocksStayWithinTheBound()
    {
        int blocks = (int)(HostBlockPool.MaxCachedBytes / (4L << 20)) + 4;
        var tensors = Enumerable.Range(0, blocks).Select(_ => Tensor.Empty(CpuBackend.Instance, 1024, 1024 + 3)).ToList();
        foreach (var t in tensors) t.Dispose();
        Assert.InRange(HostBlockPool.CachedBytes, 0, HostBlockPool.MaxCachedBytes);
    }
}
