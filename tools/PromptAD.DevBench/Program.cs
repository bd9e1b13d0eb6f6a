namespace PromptAD.DevBench;

/// <summary>
/// `dotnet run -c Release --project tools/PromptAD.DevBench -- gemm|clip|e2e|all [options]` (or `build.ps1 bench`):
/// the product's benchmarks (`promptad bench`) and, in the same run on the same cores, the PyTorch reference's
/// figures for the same work, as ratios. Every suite also takes --no-torch, --python PATH and --reference PATH
/// (see <see cref="PyTorchReference"/>).
/// </summary>
public static class Program
{
    private const string Usage = "usage: PromptAD.DevBench gemm|clip|e2e|all [suite options] [--no-torch] [--python PATH] [--reference PATH]";

    public static int Main(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help")
        {
            Console.WriteLine(Usage);
            return args.Length == 0 ? 2 : 0;
        }
        var options = args[1..];
        try
        {
            return args[0] switch
            {
                "gemm" => GemmComparison.Run(options),
                "clip" => ClipComparison.Run(options),
                "e2e" => EndToEndComparison.Run(options),
                "all" => Math.Max(GemmComparison.Run(options), ClipComparison.Run(options)),
                _ => Fail($"unknown suite '{args[0]}'\n{Usage}"),
            };
        }
        catch (ArgumentException e)
        {
            return Fail(e.Message);
        }
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"devbench: error: {message}");
        return 2;
    }
}
