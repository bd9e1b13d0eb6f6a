using PromptAD.Kernels;
using PromptAD.Tensors;
using PromptAD.Tensors.Cpu;
using PromptAD.Tests.Ops;

namespace PromptAD.Tests.Training;

/// <summary>
/// The training clock's ops: the fused SGD step equals, bit for bit, the three Axpby passes the optimizer made before
/// (g = grad + wd·p; buf = g or m·buf + g; p = p − lr·buf), with lr read from the table at the device-side step; the
/// emulated kernels equal the CPU reference bit for bit.
/// </summary>
public sealed class StepOpTests
{
    private static readonly float[] Rates = [0.5f, 0.125f, 0.0625f];

    private static float[] Random(int n, int seed)
    {
        var rng = new Random(seed);
        return [.. Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1))];
    }

    /// <summary>Three SGD steps with the fused op; returns p, buf and the last g.</summary>
    private static (float[] P, float[] Buf, float[] G) Fused(IBackend be, int n)
    {
        using var scope = TensorScope.Open();
        var p = Tensor.FromArray(be, Random(n, 1), n);
        var buf = Tensor.Zeros(be, n);
        var lrs = Tensor.FromArray(be, Rates, Rates.Length);
        var step = Tensor.Zeros(be, 1);
        var g = Tensor.Empty(be, n);
        for (int s = 0; s < Rates.Length; s++)
        {
            g.CopyFrom(Random(n, 10 + s));
            be.SgdStep(p, g, buf, lrs, step, 0.9f, 5e-4f, first: s == 0);
            be.AdvanceStep(step);
        }
        Assert.Equal([3f], step.ToArray());
        return (p.ToArray(), buf.ToArray(), g.ToArray());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(37)]
    [InlineData(1000)]
    public void TheFusedCpuStepEqualsTheThreeAxpbyPasses(int n)
    {
        var cpu = CpuBackend.Instance;
        using var scope = TensorScope.Open();
        var p = Tensor.FromArray(cpu, Random(n, 1), n);
        var g = Tensor.Empty(cpu, n);
        Tensor? buf = null;
        for (int s = 0; s < Rates.Length; s++)
        {
            g.CopyFrom(Random(n, 10 + s));
            cpu.Axpby(1f, g, 5e-4f, p, g);
            if (buf is null)
            {
                buf = Tensor.Empty(cpu, n);
                cpu.Copy(g, buf);
            }
            else cpu.Axpby(0.9f, buf, 1f, g, buf);
            cpu.Axpby(1f, p, -Rates[s], buf, p);
        }
        var fused = Fused(cpu, n);
        Assert.Equal(p.ToArray(), fused.P);
        Assert.Equal(buf!.ToArray(), fused.Buf);
        Assert.Equal(g.ToArray(), fused.G);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(37)]
    [InlineData(1000)]
    public void TheEmulatedKernelsEqualTheCpuReferenceBitForBit(int n)
    {
        using var backend = new CudaBackend(EmulatedKernels.Runtime, ownsRuntime: false);
        var gpu = Fused(backend, n);
        var cpu = Fused(CpuBackend.Instance, n);
        Assert.Equal(cpu.P, gpu.P);
        Assert.Equal(cpu.Buf, gpu.Buf);
        Assert.Equal(cpu.G, gpu.G);
    }

    [Fact]
    public void WriteAtStepFillsTheRowOfTheCurrentStep()
    {
        using var backend = new CudaBackend(EmulatedKernels.Runtime, ownsRuntime: false);
        foreach (IBackend be in new IBackend[] { CpuBackend.Instance, backend })
        {
            using var scope = TensorScope.Open();
            var history = Tensor.Zeros(be, 3, 4);
            var step = Tensor.Zeros(be, 1);
            var a = Tensor.FromArray(be, [7f], 1);
            var b = Tensor.FromArray(be, [8f, 9f], 2);
            be.AdvanceStep(step);
            be.WriteAtStep(a, history, step, 4, 0);
            be.WriteAtStep(b, history, step, 4, 2);
            Assert.Equal([0f, 0f, 0f, 0f, 7f, 0f, 8f, 9f, 0f, 0f, 0f, 0f], history.ToArray());
            Assert.Throws<ArgumentException>(() => be.WriteAtStep(b, history, step, 4, 3));
        }
        // The CPU reference also refuses a step outside the table.
        using var s = TensorScope.Open();
        var h = Tensor.Zeros(CpuBackend.Instance, 1, 1);
        var late = Tensor.Full(CpuBackend.Instance, 1f, 1);
        var e = Assert.Throws<InvalidOperationException>(() => CpuBackend.Instance.WriteAtStep(Tensor.Zeros(CpuBackend.Instance, 1), h, late, 1, 0));
        Assert.Contains("write_at_step: step 1 is outside the history (1 rows)", e.Message);
    }
}
