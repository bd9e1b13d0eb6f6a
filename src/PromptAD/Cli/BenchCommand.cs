using System.CommandLine;
using PromptAD.Bench;

namespace PromptAD.Cli;

/// <summary>`promptad bench`: how fast this machine runs the engine: GFLOP/s and images/s, against the machine's
/// peak where it is known (measured FMA peak on the CPU, the device's theoretical peaks on a GPU).</summary>
internal static class BenchCommand
{
    private static readonly string[] Suites = ["gemm", "clip", "gpu", "e2e", "all"];

    public static Command Create()
    {
        var what = new Argument<string>("what")
        {
            Description = "what to measure: gemm (CPU SGEMM at CLIP's shapes, GFLOP/s and share of the CPU's peak; --threads N, --min-time S, --rounds N), clip (random-weight encoders, images/s and prompts/s; --config NAME, --reps N, --device cuda), gpu (CUDA kernels vs the device's peaks, ViT block time), e2e (train + test on one category, 1 shot: --data DIR, --epochs N, --test-images N, --device cuda), all (gemm and clip)",
            DefaultValueFactory = _ => "all",
        };
        what.AcceptOnlyFromAmong(Suites);
        var extra = new Argument<string[]>("options")
        {
            Description = "options passed to the suite (e.g. --threads 2)",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var command = new Command("bench", "Benchmarks this machine: GFLOP/s and images/s of the engine, against the machine's peak where known.")
        {
            what,
            extra,
        };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(parse =>
        {
            var rest = parse.GetValue(extra) ?? [];
            var options = rest.Concat(parse.UnmatchedTokens).ToList();
            return parse.GetValue(what) switch
            {
                "gemm" => GemmBench.Run(options),
                "clip" => ClipBench.Run(options),
                "gpu" => GpuBench.Run(options),
                "e2e" => EndToEndBench.Run(options),
                "all" => Math.Max(GemmBench.Run(options), ClipBench.Run(options)),
                _ => 2,
            };
        });
        return command;
    }
}
