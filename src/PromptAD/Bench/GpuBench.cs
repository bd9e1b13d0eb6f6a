using PromptAD.Clip;
using System.Diagnostics;
using PromptAD.Kernels;
using PromptAD.Tensors;

namespace PromptAD.Bench;

/// <summary>
/// `promptad bench gpu`: our CUDA kernels at CLIP's sizes (ViT-B-16-plus-240: 226 tokens, width 896, 14 heads) —
/// achieved GB/s of the memory-bound ops and TFLOP/s of GEMMs and attention against the device's theoretical
/// peaks — and the time of one ViT block forward (original + V-V path) at batch 1 and 32.
/// </summary>
public static class GpuBench
{
    private const int Tokens = 226, Width = 896, Heads = 14, Mlp = 4 * Width;

    /// <param name="reps">timed repetitions per op</param>
    public static int Run(int reps)
    {
        if (!CudaBackend.TryCreate(out var backend, out var reason))
        {
            Console.WriteLine($"bench gpu: skipped, no usable CUDA device ({reason})");
            return 0;
        }
        using var be = backend!;
        var cuda = (CudaRuntime)be.Runtime;
        var (peakGBs, peakTflops) = cuda.Peaks();
        // Newer drivers may report the clock attributes as 0 (deprecated in CUDA 13): then no "of peak" column.
        Console.WriteLine(peakGBs > 0 && peakTflops > 0
            ? $"device: {cuda.DeviceName}; peaks: {peakGBs:F0} GB/s DRAM, {peakTflops:F1} TFLOP/s FP32 (theoretical)"
            : $"device: {cuda.DeviceName}; theoretical peaks unknown (the driver reports no clock rates)");
        static string OfPeak(double value, double peak) => peak > 0 ? (value / peak).ToString("P0") : "n/a";
        Console.WriteLine($"{"op",-44} {"ms",9} {"achieved",14} {"of peak",8}");

        // Random ViT-B-16-plus-240 weights: the block timing runs one of the real encoder's blocks.
        var config = ClipConfigs.Load(ClipConfigs.Default);
        using var weights = ClipWeights.Random(config, be, seed: 0);
        using var scope = TensorScope.Open();
        int batch = 32, rows = batch * Tokens;
        var x = Random(be, rows, Width);
        var wide = Random(be, rows, Mlp);
        var y = Tensor.Empty(be, rows, Width);
        var yWide = Tensor.Empty(be, rows, Mlp);
        var gamma = Random(be, Width);
        var beta = Random(be, Width);
        var mean = Tensor.Empty(be, rows);
        var rstd = Tensor.Empty(be, rows);
        var scores = Random(be, batch * Heads * Tokens, Tokens);
        var probs = Tensor.Empty(be, batch * Heads * Tokens, Tokens);

        void Bandwidth(string name, double bytes, Action op)
        {
            double ms = Time(be, reps, op);
            double gbs = bytes / (ms * 1e-3) / 1e9;
            Console.WriteLine($"{name,-44} {ms,9:F3} {gbs,9:F0} GB/s {OfPeak(gbs, peakGBs),8}");
        }
        void Compute(string name, double flops, Action op)
        {
            double ms = Time(be, reps, op);
            double tflops = flops / (ms * 1e-3) / 1e12;
            Console.WriteLine($"{name,-44} {ms,9:F3} {tflops,7:F2} TFLOP/s {OfPeak(tflops, peakTflops),8}");
        }

        long n = (long)rows * Width, nw = (long)rows * Mlp;
        Bandwidth($"layernorm_forward [{rows}×{Width}]", 2.0 * n * 4, () => be.LayerNormForward(x, gamma, beta, 1e-5f, y, mean, rstd));
        Bandwidth($"gelu_forward [{rows}×{Mlp}]", 2.0 * nw * 4, () => be.GeluForward(wide, yWide));
        Bandwidth($"residual add [{rows}×{Width}]", 3.0 * n * 4, () => be.Axpby(1f, x, 1f, y, y));
        Bandwidth($"softmax_forward [{batch * Heads * Tokens}×{Tokens}]", 2.0 * scores.Length * 4, () => be.SoftmaxForward(scores, probs, 0));
        Bandwidth($"l2normalize_forward [{rows}×{Width}]", 2.0 * n * 4, () => be.L2NormalizeForward(x, y, mean));

        var wQkv = Random(be, 3 * Width, Width);
        var qkv = Tensor.Empty(be, rows, 3 * Width);
        var wFc = Random(be, Mlp, Width);
        Compute($"gemm (cuBLAS) [{rows}×{Width}]·[{Width}×{3 * Width}]", 2.0 * rows * Width * 3 * Width,
            () => be.Gemm(false, true, rows, 3 * Width, Width, 1f, x, 0, Width, 0, wQkv, 0, Width, 0, 0f, qkv, 0, 3 * Width, 0, 1));
        Compute($"gemm (cuBLAS) [{rows}×{Width}]·[{Width}×{Mlp}]", 2.0 * rows * Width * Mlp,
            () => be.Gemm(false, true, rows, Mlp, Width, 1f, x, 0, Width, 0, wFc, 0, Width, 0, 0f, yWide, 0, Mlp, 0, 1));
        double attnFlops = 4.0 * batch * Heads * Tokens * Tokens * (Width / Heads);
        Compute($"attention_forward b{batch} t{Tokens} h{Heads}", attnFlops, () => be.AttentionForward(qkv, batch, Tokens, Heads, false, y, probs));
        Compute($"vv_attention_forward b{batch} t{Tokens} h{Heads}", attnFlops, () => be.VVAttentionForward(qkv, batch, Tokens, Heads, y));
        var bank = Random(be, 4 * 225, Width);
        var query = Random(be, rows, Width);
        var nn = Tensor.Empty(be, rows);
        Compute($"nearest_neighbour {rows} queries × {bank.Rows} bank", 2.0 * rows * bank.Rows * Width, () => be.NearestNeighbourForward(query, bank, nn));

        foreach (int b in new[] { 1, 32 })
        {
            using var blockScope = TensorScope.Open();
            // Block 0 of the encoder itself, both paths (SPEC §4): the work of one of its 12 blocks.
            var block = new ResidualBlock(weights, "visual.transformer.resblocks.0.", config.Vision.Heads);
            var input = Random(be, b * Tokens, Width);
            double ms = Time(be, reps, () =>
            {
                using var s = TensorScope.Open();
                block.ForwardDual(input, input, b, Tokens);
            });
            Console.WriteLine($"{$"ViT-B-16-plus-240 block forward, batch {b}",-44} {ms,9:F3} {b * 1000.0 / ms,9:F0} img/s");
        }
        return 0;
    }

    /// <summary>Median milliseconds of <paramref name="reps"/> synchronized runs after two warm-ups.</summary>
    private static double Time(IBackend be, int reps, Action op)
    {
        op();
        op();
        be.Synchronize();
        var times = new double[reps];
        for (int i = 0; i < reps; i++)
        {
            var sw = Stopwatch.StartNew();
            op();
            be.Synchronize();
            times[i] = sw.Elapsed.TotalMilliseconds;
        }
        Array.Sort(times);
        return times[reps / 2];
    }

    private static int _seed;

    /// <summary>Small random values (a fresh seed per tensor, so weights differ).</summary>
    private static Tensor Random(IBackend be, params int[] shape)
    {
        var rng = new Random(++_seed);
        var data = new float[Shape.Elements(shape)];
        for (int i = 0; i < data.Length; i++) data[i] = (float)(rng.NextDouble() * 2 - 1) * 0.05f;
        return Tensor.FromArray(be, data, shape);
    }
}
