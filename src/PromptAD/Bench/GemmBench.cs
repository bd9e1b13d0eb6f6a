using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using PromptAD.Tensors.Cpu;

namespace PromptAD.Bench;

/// <summary>
/// `promptad bench gemm`: times <see cref="CpuGemm.Sgemm"/> on the CLIP ViT-B linear-layer shapes (NN, and NT,
/// which is how a linear layer multiplies by its [out, in] weight) and compares against PyTorch's CPU matmul run
/// by tests/reference/bench_gemm.py with the same thread count.
/// Also times the per-head attention scores (strided batched Q K^T).
/// Options: --threads N (default: processor count), --min-time SECONDS per shape (default 1), --rounds N (default 1;
/// alternate ours/torch N times and keep each side's best, for shared machines), --no-torch, --python PATH (default
/// /usr/bin/python3), --reference PATH (the script); see <see cref="PyTorchReference"/>.
/// </summary>
public static class GemmBench
{
    private static readonly (int M, int N, int K)[] Shapes = [(226, 2688, 896), (226, 3584, 896), (77, 1920, 640)];

    // Attention scores Q K^T per head, read from a packed QKV projection (vision: 14 heads x 226 tokens, text: 12 x 77).
    private static readonly (int Heads, int Len, int Dh)[] Attention = [(14, 226, 64), (12, 77, 64)];

    public static int Run(IReadOnlyList<string> args)
    {
        if (BenchArgs.Unknown(args, ["--threads", "--min-time", "--rounds", "--python", "--reference"], ["--no-torch"]) is { } unknown)
        {
            Console.Error.WriteLine($"bench gemm: unknown option '{unknown}'");
            return 2;
        }
        int threads = BenchArgs.Int(args, "--threads", Environment.ProcessorCount);
        double minTime = BenchArgs.Double(args, "--min-time", 1.0);
        int rounds = BenchArgs.Int(args, "--rounds", 1);
        bool torch = !BenchArgs.Flag(args, "--no-torch");
        // Each round times all of ours, then all of torch's; the table keeps each side's best round. On a shared
        // machine that compares both at their least-disturbed, instead of whichever happened to run in a quiet spell.
        var ours = new Dictionary<string, double>();
        var order = new List<string>();
        Dictionary<string, double>? reference = null;
        string why = "";
        for (int round = 0; round < rounds; round++)
        {
            int savedThreads = CpuGemm.MaxThreads;
            CpuGemm.MaxThreads = threads;
            try
            {
                foreach (var (m, n, k) in Shapes)
                    foreach (bool transB in new[] { false, true })
                        Record(ours, order, Key(m, n, k, transB), TimeOurs(m, n, k, transB, minTime));
                foreach (var (h, len, dh) in Attention)
                    Record(ours, order, AttentionKey(h, len, dh), TimeAttention(h, len, dh, minTime));
            }
            finally
            {
                CpuGemm.MaxThreads = savedThreads;
            }
            if (!torch || (round > 0 && reference is null)) continue;
            if (!RunTorch(args, threads, minTime, out var run, out why)) continue;
            reference ??= new Dictionary<string, double>();
            foreach (var (key, gf) in run)
                reference[key] = Math.Max(gf, reference.GetValueOrDefault(key));
        }
        if (reference is null && torch) PyTorchReference.ReportUnavailable(why);
        else if (reference is null) Console.WriteLine("PyTorch reference skipped (--no-torch)");

        Console.WriteLine();
        Console.WriteLine($"SGEMM, {threads} thread(s), GFLOP/s (median of each round, best of {rounds} round(s))");
        Console.WriteLine($"{"shape (m x n x k, op)",-26} {"ours",8} {"torch",8} {"ratio",6}");
        foreach (string shape in order)
        {
            double gf = ours[shape];
            if (reference is not null && reference.TryGetValue(shape, out double t))
                Console.WriteLine($"{shape,-26} {gf,8:F1} {t,8:F1} {gf / t,6:F2}");
            else
                Console.WriteLine($"{shape,-26} {gf,8:F1} {"n/a",8} {"n/a",6}");
        }
        return 0;
    }

    private static void Record(Dictionary<string, double> best, List<string> order, string key, double gflops)
    {
        Console.WriteLine($"ours  {key,-26} {gflops,8:F1} GFLOP/s");
        if (!best.TryGetValue(key, out double old)) order.Add(key);
        best[key] = Math.Max(old, gflops);
    }

    private static string Key(int m, int n, int k, bool transB) => $"{m}x{n}x{k} {(transB ? "NT" : "NN")}";

    private static string AttentionKey(int heads, int len, int dh) => $"{heads}x({len}x{len}x{dh}) QK^T";

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

    // Runs tests/reference/bench_gemm.py on the same shapes and thread count; one JSON line per shape.
    private static bool RunTorch(IReadOnlyList<string> args, int threads, double minTime,
        [NotNullWhen(true)] out Dictionary<string, double>? result, out string why)
    {
        string count = threads.ToString(CultureInfo.InvariantCulture);
        var arguments = new List<string> { "--threads", count, "--min-time", minTime.ToString(CultureInfo.InvariantCulture) };
        foreach (var (m, n, k) in Shapes) arguments.AddRange(["--shape", $"{m}x{n}x{k}"]);
        foreach (var (h, len, dh) in Attention) arguments.AddRange(["--attention", $"{h}x{len}x{dh}"]);
        // The script pins these itself too; setting them here also covers a BLAS that reads them at load time.
        var environment = new Dictionary<string, string>
        {
            ["OPENBLAS_NUM_THREADS"] = count,
            ["OMP_NUM_THREADS"] = count,
            ["MKL_NUM_THREADS"] = count,
        };
        return PyTorchReference.TryRun("bench_gemm.py", arguments, args, out result, out why, ReadLine, environment);
    }

    private static IEnumerable<KeyValuePair<string, double>> ReadLine(JsonElement e)
    {
        string key = e.TryGetProperty("attention", out _)
            ? AttentionKey(e.GetProperty("heads").GetInt32(), e.GetProperty("length").GetInt32(), e.GetProperty("dh").GetInt32())
            : Key(e.GetProperty("m").GetInt32(), e.GetProperty("n").GetInt32(), e.GetProperty("k").GetInt32(), e.GetProperty("trans_b").GetBoolean());
        return [new(key, e.GetProperty("gflops").GetDouble())];
    }
}
