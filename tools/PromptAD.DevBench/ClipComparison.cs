using System.Globalization;
using PromptAD.Bench;
using PromptAD.Clip;

namespace PromptAD.DevBench;

/// <summary>
/// CLIP encoder throughput with random weights (<see cref="ClipBench"/>), beside the same work in the PyTorch
/// reference (tests/reference/clip_reference.py --bench, always on the CPU).
/// Options: --config NAME, --reps N, --device cpu|cuda, --by-op, --no-torch, --python PATH, --reference PATH.
/// </summary>
internal static class ClipComparison
{
    public static int Run(IReadOnlyList<string> args)
    {
        string configName = BenchArgs.String(args, "--config") ?? ClipConfigs.Default;
        int reps = BenchArgs.Int(args, "--reps", 1);
        var options = new ClipBench.Options(configName, reps, BenchArgs.Flag(args, "--by-op"));
        var device = DevBenchDevice.Of(args);
        if (options.ByOp && device.Kind != Pipeline.DeviceKind.Cpu)
            throw new ArgumentException("--by-op times each op as it runs, which only the CPU backend does: drop --device");
        Dictionary<string, double> ours;
        using (var backend = Cli.BackendChoice.Create(device)) ours = ClipBench.Measure(options, backend);
        Dictionary<string, double>? torch = null;
        if (!BenchArgs.Flag(args, "--no-torch")
            && !PyTorchReference.TryRun("clip_reference.py", ["--bench", "--config", configName, "--reps", reps.ToString(CultureInfo.InvariantCulture)],
                args, out torch, out string why))
            PyTorchReference.ReportUnavailable(why);
        Console.WriteLine();
        Console.WriteLine($"{"measure",-38} {"ours",12} {"pytorch",12} {"ours/pytorch",13}");
        foreach (var (key, value) in ours)
        {
            string theirs = "-", ratio = "-";
            if (torch is not null && torch.TryGetValue(key, out double t) && t > 0) { theirs = t.ToString("F2"); ratio = (value / t).ToString("F2"); }
            Console.WriteLine($"{key,-38} {value,12:F2} {theirs,12} {ratio,13}");
            // Against the published method, which runs all 77 text positions (we stop at the last end token).
            string fullKey = key.Replace("_prompts_per_s", "_full_context_prompts_per_s");
            if (fullKey != key && torch is not null && torch.TryGetValue(fullKey, out double f) && f > 0)
                Console.WriteLine($"{"  vs pytorch over all 77 positions",-38} {value,12:F2} {f,12:F2} {value / f,13:F2}");
        }
        if (options.ByOp) ClipBench.PrintByOp(options);
        return 0;
    }
}
