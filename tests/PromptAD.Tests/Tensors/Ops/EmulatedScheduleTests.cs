using PromptAD.Kernels;
using PromptAD.Tensors;
using PromptAD.Tensors.Autograd;

namespace PromptAD.Tests.Ops;

/// <summary>
/// The whole op table (every forward output and every gradient) on the emulated GPU under other thread and block
/// orders than ascending: a seeded random schedule, and a descending one with deferred work. Every result must be
/// bit-identical to the ascending run, so no kernel depends on the order of its threads between barriers or of its
/// blocks (a missing barrier or an order-dependent race would show). The one exception is stated: kernels that
/// accumulate floats with atomicAdd, whose sums depend on the order; their results must agree within
/// <see cref="AtomicTolerance"/> of the output's largest magnitude.
/// </summary>
public sealed class EmulatedScheduleTests
{
    /// <summary>Cases whose results pass through a float atomicAdd (sqdist_rows_backward's broadcast db).</summary>
    public static readonly string[] AtomicCases = ["squared_distance/"];

    /// <summary>Relative to the output's largest magnitude: a reordered FP32 sum of a few hundred terms.</summary>
    public const double AtomicTolerance = 1e-5;

    private static readonly Lazy<(Dictionary<string, float[][]> Results, IReadOnlyCollection<(string Kernel, int Threads, uint SharedBytes)> Shapes)> Ascending =
        new(() => RunAll(EmulationOptions.Default), LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Every (kernel, threads per block, dynamic shared bytes) the op table launches (the ascending run's).</summary>
    internal static IReadOnlyCollection<(string Kernel, int Threads, uint SharedBytes)> OpTableLaunchShapes => Ascending.Value.Shapes;

    [Fact]
    public void RandomScheduleGivesTheSameBits() => Compare(new EmulationOptions(EmulatedSchedule.Random, Seed: 2024));

    [Fact]
    public void DescendingScheduleWithDeferredWorkGivesTheSameBits() =>
        Compare(new EmulationOptions(EmulatedSchedule.Descending, Deferred: true));

    private static void Compare(EmulationOptions options)
    {
        var baseline = Ascending.Value.Results;
        var other = RunAll(options).Item1;
        var failures = new List<string>();
        foreach (var (name, outputs) in baseline)
        {
            bool atomic = AtomicCases.Any(prefix => name.StartsWith(prefix, StringComparison.Ordinal) && name.Contains("broadcast"));
            for (int o = 0; o < outputs.Length; o++)
            {
                float[] a = outputs[o], b = other[name][o];
                double scale = a.Length == 0 ? 0 : a.Max(v => Math.Abs((double)v));
                for (int i = 0; i < a.Length; i++)
                {
                    bool same = BitConverter.SingleToUInt32Bits(a[i]) == BitConverter.SingleToUInt32Bits(b[i]);
                    if (same || (atomic && Math.Abs(a[i] - b[i]) <= AtomicTolerance * scale)) continue;
                    failures.Add($"{name} output {o} [{i}]: ascending {a[i]:R}, {options} {b[i]:R}");
                    break;
                }
            }
        }
        Assert.True(failures.Count == 0, $"{failures.Count} results depend on the schedule:\n" + string.Join("\n", failures));
    }

    /// <summary>Per case: the forward output, then the gradient of each differentiable input (same weighting as
    /// <see cref="BackendOpTests"/>' backward).</summary>
    private static (Dictionary<string, float[][]>, IReadOnlyCollection<(string Kernel, int Threads, uint SharedBytes)>) RunAll(EmulationOptions options)
    {
        using var runtime = EmulatedKernels.CreateRuntime(options: options);
        using var backend = new CudaBackend(runtime, ownsRuntime: false);
        var results = new Dictionary<string, float[][]>();
        foreach (var c in OpTable.All)
        {
            var inputs = c.MakeInputs();
            using var scope = TensorScope.Open();
            var tensors = BackendOpTests.Upload(backend, c, inputs, requireGrad: c.HasBackward);
            var output = c.Run(tensors);
            var outputs = new List<float[]> { output.ToArray() };
            if (c.HasBackward)
            {
                int n = (int)output.Length;
                var rng = new Random(n * 7919 + 1);
                var w = Tensor.FromArray(backend, Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray(), n, 1);
                Backprop.Backward(PromptAD.Tensors.Ops.MatMul(PromptAD.Tensors.Ops.Reshape(output, 1, n), w));
                foreach (var t in tensors)
                    if (t.Grad is not null) outputs.Add(t.Grad.ToArray());
            }
            results[c.Name] = [.. outputs];
        }
        return (results, runtime.LaunchShapes);
    }
}
