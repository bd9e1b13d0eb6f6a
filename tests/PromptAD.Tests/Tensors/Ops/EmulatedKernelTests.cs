using PromptAD.Kernels;
using PromptAD.Tensors;
using PromptAD.Tensors.Cpu;

namespace PromptAD.Tests.Ops;

/// <summary>Emulated-kernel checks the op table does not reach: the fused V-V kernel (head dim 64 only) and launch errors.</summary>
public sealed class EmulatedKernelTests
{
    [Theory]
    [InlineData(1, 5, 1)]
    [InlineData(2, 37, 2)]
    public void FusedVvAttentionMatchesCpu(int batch, int seq, int heads)
    {
        using var backend = new CudaBackend(EmulatedKernels.Runtime, ownsRuntime: false);
        int width = heads * KernelCatalog.Attention.VvHeadDim;
        var rng = new Random(seq);
        float[] qkv = Enumerable.Range(0, batch * seq * 3 * width).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        using var scope = TensorScope.Open();
        var expected = Tensor.Empty(CpuBackend.Instance, batch * seq, width);
        CpuBackend.Instance.VVAttentionForward(Tensor.FromArray(CpuBackend.Instance, qkv, batch * seq, 3 * width), batch, seq, heads, expected);
        var actual = Tensor.Empty(backend, batch * seq, width);
        backend.VVAttentionForward(Tensor.FromArray(backend, qkv, batch * seq, 3 * width), batch, seq, heads, actual);
        float[] e = expected.ToArray(), a = actual.ToArray();
        for (int i = 0; i < e.Length; i++) Assert.True(Math.Abs(e[i] - a[i]) < 1e-5, $"[{i}]: {a[i]} vs {e[i]}");
    }

    [Fact]
    public void UnknownKernelAndBadShapeThrow()
    {
        var rt = EmulatedKernels.Runtime;
        var e = Assert.Throws<InvalidOperationException>(() => rt.Launch("none.cu", "no_such_kernel", 1, 1, 0, new KernelArgs()));
        Assert.Contains("no_such_kernel", e.Message);
        Assert.Throws<InvalidOperationException>(() => rt.Launch(KernelCatalog.Elementwise.File, KernelCatalog.Elementwise.Axpby, 1, 2048, 0,
            new KernelArgs().Pointer(0).Pointer(0).Pointer(0).Float(1).Float(1).Int(0)));
    }
}
