using System.CommandLine;
using PromptAD.Bench;

namespace PromptAD.Cli;

/// <summary>`promptad bench`: timings of our engine side by side with the PyTorch reference on the same machine.</summary>
internal static class BenchCommand
{
    private static readonly string[] Suites = ["gemm", "clip", "gpu", "e2e", "all"];

    public static Command Create()
    {
        var what = new Argument<string>("what")
        {
            Description = "what to measure: gemm (CPU SGEMM at CLIP's shapes vs torch.matmul), clip (random-weight encoders vs the PyTorch reference), gpu (CUDA kernels vs the device's peaks, ViT block time), e2e (train + test on MVTec bottle, 1 shot, vs the PyTorch pipeline; --epochs N, --test-images N, --device cuda), all (gemm and clip)",
            DefaultValueFactory = _ => "all",
        };
        what.AcceptOnlyFromAmong(Suites);
        var extra = new Argument<string[]>("options")
        {
            Description = "options passed to the suite (e.g. --threads 2, --no-reference)",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var command = new Command("bench", "Benchmarks: prints our figures and, in the same run, the PyTorch reference's, as ratios.")
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
