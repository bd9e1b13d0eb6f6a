namespace PromptAD.Bench;

/// <summary>Reads `--name value` options from a benchmark suite's argument list.</summary>
internal static class BenchArgs
{
    public static int Int(IReadOnlyList<string> args, string name, int fallback)
    {
        for (int i = 0; i + 1 < args.Count; i++)
            if (args[i] == name)
                return int.TryParse(args[i + 1], out int v) && v > 0 ? v : throw new ArgumentException($"{name} expects a positive integer, got '{args[i + 1]}'");
        return fallback;
    }
}
