namespace PromptAD.Bench;

// Placeholder until the SGEMM benchmark lands with the packed kernel.
public static class GemmBench
{
    public static int Run(IReadOnlyList<string> args)
    {
        Console.WriteLine("gemm benchmark: not built yet");
        return 1;
    }
}
