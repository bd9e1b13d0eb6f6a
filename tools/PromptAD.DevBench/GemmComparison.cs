using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;
using PromptAD.Bench;

namespace PromptAD.DevBench;

/// <summary>
/// SGEMM GFLOP/s at CLIP's shapes: ours (<see cref="GemmBench"/>) and PyTorch's CPU matmul (tests/reference/bench_gemm.py)
/// with the same thread count, alternating round by round and keeping each side's best round.
/// Options: --threads N, --min-time SECONDS, --rounds N, --no-torch, --python PATH, --reference PATH.
/// </summary>
internal static class GemmComparison
{
    public static int Run(IReadOnlyList<string> args)
    {
        if (BenchArgs.Unknown(args, ["--threads", "--min-time", "--rounds", "--python", "--reference"], ["--no-torch"]) is { } unknown)
        {
            Console.Error.WriteLine($"gemm: unknown option '{unknown}'");
            return 2;
        }
        int threads = BenchArgs.Int(args, "--threads", Environment.ProcessorCount);
        double minTime = BenchArgs.Double(args, "--min-time", 1.0);
        int rounds = BenchArgs.Int(args, "--rounds", 1);
        bool torch = !BenchArgs.Flag(args, "--no-torch");
        Dictionary<string, double>? reference = null;
        string why = "";
        var (ours, order) = GemmBench.Measure(threads, minTime, rounds, round =>
        {
            if (!torch || (round > 0 && reference is null)) return; // a reference that failed once is not retried
            if (!RunTorch(args, threads, minTime, out var run, out why)) return;
            reference ??= new Dictionary<string, double>();
            foreach (var (key, gf) in run)
                reference[key] = Math.Max(gf, reference.GetValueOrDefault(key));
        });
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

    // Runs tests/reference/bench_gemm.py on the same shapes and thread count; one JSON line per shape.
    private static bool RunTorch(IReadOnlyList<string> args, int threads, double minTime,
        [NotNullWhen(true)] out Dictionary<string, double>? result, out string why)
    {
        string count = threads.ToString(CultureInfo.InvariantCulture);
        var arguments = new List<string> { "--threads", count, "--min-time", minTime.ToString(CultureInfo.InvariantCulture) };
        foreach (var (m, n, k) in GemmBench.Shapes) arguments.AddRange(["--shape", $"{m}x{n}x{k}"]);
        foreach (var (h, len, dh) in GemmBench.Attention) arguments.AddRange(["--attention", $"{h}x{len}x{dh}"]);
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
            ? GemmBench.AttentionKey(e.GetProperty("heads").GetInt32(), e.GetProperty("length").GetInt32(), e.GetProperty("dh").GetInt32())
            : GemmBench.Key(e.GetProperty("m").GetInt32(), e.GetProperty("n").GetInt32(), e.GetProperty("k").GetInt32(), e.GetProperty("trans_b").GetBoolean());
        return [new(key, e.GetProperty("gflops").GetDouble())];
    }
}
