using PromptAD.Clip;
using PromptAD.Kernels;
using PromptAD.Tensors;
using PromptAD.Tensors.Autograd;
using PromptAD.Tensors.Cpu;
using PromptAD.Tests.Ops;
using TOps = PromptAD.Tensors.Ops;

namespace PromptAD.Tests.Clip;

/// <summary>
/// The text encoder with the fused ops (linear + activation, linear + residual, and on the GPU the causal attention
/// without stored scores) against the unfused composition (<see cref="TOps.WithoutFusion"/>): the features and the
/// gradient to the learned prompt vectors, on the CPU and on the emulated GPU, for GELU and QuickGELU configs.
/// </summary>
public class FusionParityTests(ITestOutputHelper output)
{
    private const double FeatureRelTol = 1e-5, GradRelTol = 1e-4;

    public static TheoryData<string> TinyConfigs() => new("tiny-test", "tiny-test-quickgelu");

    private static (float[] Features, float[] Grad) Encode(IBackend be, ClipGolden golden, bool fused)
    {
        using var weights = ClipWeights.Load(golden.WeightsPath, golden.Config, be);
        var encoder = new ClipTextEncoder(weights);
        using var scope = TensorScope.Open();
        using var unfused = fused ? null : TOps.WithoutFusion();
        var leaf = Tensor.FromArray(be, golden.Get("learned"), golden.Shape("learned"));
        leaf.RequiresGrad = true;
        var text = encoder.Encode(golden.TokenIds(), TOps.GatherRows(leaf, golden.Ints("learned_index")), golden.LearnedPositions());
        var w = golden.Get("loss_weights");
        Backprop.Backward(TOps.MatMul(TOps.Reshape(text, 1, w.Length), Tensor.FromArray(be, w, w.Length, 1)));
        return (text.ToArray(), leaf.Grad!.ToArray());
    }

    private void AssertClose(string what, (float[] Features, float[] Grad) actual, (float[] Features, float[] Grad) expected)
    {
        double features = Compare.Relative(actual.Features, expected.Features), grad = Compare.Relative(actual.Grad, expected.Grad);
        output.WriteLine($"{what}: features rel {features:E2}, prompt gradient rel {grad:E2}");
        Assert.True(features <= FeatureRelTol, $"{what}: text features differ by {features:E3} (relative)");
        Assert.True(grad <= GradRelTol, $"{what}: prompt-vector gradients differ by {grad:E3} (relative)");
    }

    [Theory]
    [MemberData(nameof(TinyConfigs))]
    public void OnTheCpu_FusedEqualsUnfused(string config)
    {
        using var golden = new ClipGolden(ClipGolden.SmallDirectory, config);
        var unfused = Encode(CpuBackend.Instance, golden, fused: false);
        var fused = Encode(CpuBackend.Instance, golden, fused: true);
        // Every GEMM of the tiny configs fits one k block, so the CPU's numbers are the unfused ones to the bit.
        Assert.Equal(unfused.Features, fused.Features);
        Assert.Equal(unfused.Grad, fused.Grad);
    }

    [Theory]
    [MemberData(nameof(TinyConfigs))]
    public void OnTheEmulatedGpu_FusedEqualsUnfusedAndTheCpu(string config)
    {
        using var golden = new ClipGolden(ClipGolden.SmallDirectory, config);
        using var runtime = EmulatedKernels.CreateRuntime();
        using var gpu = new CudaBackend(runtime, ownsRuntime: false);
        var cpu = Encode(CpuBackend.Instance, golden, fused: false);
        var start = runtime.Counters.Snapshot();
        var gpuUnfused = Encode(gpu, golden, fused: false);
        var middle = runtime.Counters.Snapshot();
        var gpuFused = Encode(gpu, golden, fused: true);
        long unfusedLaunches = (middle - start).Launches, fusedLaunches = (runtime.Counters.Snapshot() - middle).Launches;
        output.WriteLine($"{config} forward + backward launches: unfused {unfusedLaunches}, fused {fusedLaunches}");
        AssertClose($"{config} emulated GPU fused vs unfused", gpuFused, gpuUnfused);
        AssertClose($"{config} emulated GPU fused vs CPU unfused", gpuFused, cpu);
        // Per text block: 3 launches fewer forward (bias broadcasts, activation and residual passes), 4 for attention
        // (split, 2 GEMMs, softmax, merge → 1); backward 6 for attention (8 → 2) and one copy per residual add.
        Assert.True(fusedLaunches < unfusedLaunches - 10 * golden.Config.Text.Layers,
            $"fused {fusedLaunches} launches against {unfusedLaunches} unfused");
    }
}
