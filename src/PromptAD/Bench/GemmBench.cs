using System.Diagnostics;
using System.Runtime.InteropServices;
using PromptAD.Tensors.Cpu;

namespace PromptAD.Bench;

/// <summary>
/// `promptad bench gemm`: times <see cref="CpuGemm.Sgemm"/> on the CLIP ViT-B linear-layer shapes (NN, and NT,
/// which is how a linear layer multiplies by its [out, in] weight) and the per-head attention scores (strided
/// batched Q K^T), in GFLOP/s and as a share of this CPU's measured FMA peak (<see cref="CpuPeak"/>).
/// Run on <c>threads</c> threads for at least <c>minTime</c> seconds per shape, <c>rounds</c> times (each shape's
/// best round kept, for shared machines).
/// </summary>
public static class GemmBench
{
    /// <summary>Linear layers of ViT-B-16-plus-240 (226 tokens, width 896) and of the text encoder (77 tokens, 640).</summary>
    public static readonly (int M, int N, int K)[] Shapes = [(226, 2688, 896), (226, 3584, 896), (77, 1920, 640)];

    /// <summary>Attention scores Q K^T per head, read from a packed QKV projection (vision: 14 heads x 226 tokens, text: 12 x 77).</summary>
    public static readonly (int Heads, int Len, int Dh)[] Attention = [(14, 226, 64), (12, 77, 64)];

    public static int Run(int threads, double minTime, int rounds)
    {
        // The peak is measured before and after the GEMMs and the higher kept: on a shared machine a single
        // measurement taken in a busy moment would understate it (and overstate the GEMMs' share).
        double peakTime = Math.Max(0.3, minTime);
        double? before = CpuPeak.MeasureGflops(threads, peakTime);
        var (ours, order) = Measure(threads, minTime, rounds);
        double? peak = CpuPeak.MeasureGflops(threads, peakTime) is { } after ? Math.Max(after, before ?? 0) : null;

        Console.WriteLine();
        Console.WriteLine($"SGEMM, {threads} thread(s), GFLOP/s (median of each round, best of {rounds} round(s))");
        Console.WriteLine(peak is { } p
            ? $"peak: {p:F1} GFLOP/s FP32 (measured: {threads} thread(s) of independent {CpuPeak.VectorBits}-bit FMA chains)"
            : "peak: unknown (this build has no hardware FMA)");
        Console.WriteLine($"{"shape (m x n x k, op)",-26} {"GFLOP/s",8} {"of peak",8}");
        foreach (string shape in order)
            Console.WriteLine($"{shape,-26} {ours[shape],8:F1} {(peak is { } pk ? (ours[shape] / pk).ToString("P0") : "n/a"),8}");
        return 0;
    }

    /// <summary>
    /// Our GFLOP/s for every shape (keys from <see cref="Key"/> and <see cref="AttentionKey"/>, in table order), each
    /// the best of <paramref name="rounds"/> rounds; <paramref name="betweenRounds"/> runs after each round (another
    /// implementation timed in alternation, so both are compared at their least-disturbed on a shared machine).
    /// </summary>
    public static (Dictionary<string, double> Best, List<string> Order) Measure(int threads, double minTime, int rounds,
        Action<int>? betweenRounds = null)
    {
        var best = new Dictionary<string, double>();
        var order = new List<string>();
        for (int round = 0; round < rounds; round++)
        {
            int savedThreads = CpuGemm.MaxThreads;
            CpuGemm.MaxThreads = threads;
            try
            {
                foreach (var (m, n, k) in Shapes)
                    foreach (bool transB in new[] { false, true })
                        Record(best, order, Key(m, n, k, transB), TimeOurs(m, n, k, transB, minTime));
                foreach (var (h, len, dh) in Attention)
                    Record(best, order, AttentionKey(h, len, dh), TimeAttention(h, len, dh, minTime));
            }
            finally
            {
                CpuGemm.MaxThreads = savedThreads;
            }
            betweenRounds?.Invoke(round);
        }
        return (best, order);
    }

    private static void Record(Dictionary<string, double> best, List<string> order, string key, double gflops)
    {
        Console.WriteLine($"ours  {key,-26} {gflops,8:F1} GFLOP/s");
        if (!best.TryGetValue(key, out double old)) order.Add(key);
        best[key] = Math.Max(old, gflops);
    }

    public static string Key(int m, int n, int k, bool transB) => $"{m}x{n}x{k} {(transB ? "NT" : "NN")}";

    public static string AttentionKey(int heads, int len, int dh) => $"{heads}x({len}x{len}x{dh}) QK^T";

    private static unsafe double TimeAttention(int heads, int len, int dh, double minTime)
    {
        int d = heads * dh, ld = 3 * d;
        float* qkv = Alloc((long)len * ld), scores = Alloc((long)heads * len * len);
        try
        {
            var rng = new Random(99);
            for (long i = 0; i < (long)len * ld; i++) qkv[i] = (float)(rng.NextDouble() * 2 - 1);
            return Median(minTime, 2.0 * heads * len * len * dh, () => CpuGemm.SgemmStridedBatched(false, true,
                len, len, dh, 1f, qkv, ld, dh, qkv + d, ld, dh, 0f, scores, len, (long)len * len, heads));
        }
        finally
        {
            NativeMemory.AlignedFree(qkv);
            NativeMemory.AlignedFree(scores);
        }
    }

    // Warms up, then times single calls until both 10 samples and minTime seconds are reached; GFLOP/s at the median.
    private static double Median(double minTime, double flops, Action call)
    {
        for (int i = 0; i < 5; i++) call();
        var times = new List<double>();
        long start = Stopwatch.GetTimestamp();
        while (times.Count < 10 || Stopwatch.GetElapsedTime(start).TotalSeconds < minTime)
        {
            long t0 = Stopwatch.GetTimestamp();
            call();
            times.Add(Stopwatch.GetElapsedTime(t0).TotalSeconds);
        }
        times.Sort();
        return flops / times[times.Count / 2] / 1e9;
    }

    private static unsafe double TimeOurs(int m, int n, int k, bool transB, double minTime)
    {
        float* a = Alloc((long)m * k), b = Alloc((long)k * n), c = Alloc((long)m * n);
        try
        {
            var rng = new Random(1234);
            for (long i = 0; i < (long)m * k; i++) a[i] = (float)(rng.NextDouble() * 2 - 1);
            for (long i = 0; i < (long)k * n; i++) b[i] = (float)(rng.NextDouble() * 2 - 1);
            int ldb = transB ? k : n;
            return Median(minTime, 2.0 * m * n * k,
                () => CpuGemm.Sgemm(false, transB, m, n, k, 1f, a, k, b, ldb, 0f, c, n));
        }
        finally
        {
            NativeMemory.AlignedFree(a);
            NativeMemory.AlignedFree(b);
            NativeMemory.AlignedFree(c);
        }
    }

    private static unsafe float* Alloc(long floats) =>
        (float*)NativeMemory.AlignedAlloc((nuint)(floats * sizeof(float)), 64);
}
