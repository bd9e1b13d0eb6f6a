using System.CommandLine;
using PromptAD.Bench;

namespace PromptAD.Cli;

/// <summary>`promptad bench`: how fast this machine runs the engine: GFLOP/s and images/s, against the machine's
/// peak where it is known (measured FMA peak on the CPU, the device's theoretical peaks on a GPU).</summary>
internal static class BenchCommand
{
    private static readonly string[] Suites = ["gemm", "clip", "gpu", "e2e", "precision", "serve", "all"];

    public static Command Create()
    {
        var what = new Argument<string>("what")
        {
            Description = "what to measure: gemm (CPU SGEMM at CLIP's shapes, GFLOP/s and share of the CPU's peak; --threads N, --min-time S, --rounds N), clip (random-weight encoders, images/s and prompts/s; --config NAME, --reps N, --device cuda, --by-op: the image encoder's time, share and GFLOP/s per op kind on the CPU), gpu (CUDA kernels vs the device's peaks, ViT block time), e2e (train + test on one category, 1 shot: --data DIR, --epochs N, --test-images N, --device cuda), precision (fp32 against tf32 or bf16 GEMMs end to end on one category, same random weights and device: largest image-score difference, pixel-map rank correlation, image AUROC both ways; --data DIR, --device cuda|emulated, --emulator LIB, --precision tf32|bf16, --config NAME, --epochs N, --test-images N, --size S), serve (the HTTP scoring service: images/s and p50/p99 latency at batch 1 and with concurrent clients batched; --config NAME, --requests N, --clients C, --batch B, --size S), all (gemm and clip)",
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
                "precision" => PrecisionBench.Run(options),
                "serve" => Bench.ServeBench.Run(options),
                "all" => Math.Max(GemmBench.Run(options), ClipBench.Run(options)),
                _ => 2,
            };
        });
        return command;
    }
}
