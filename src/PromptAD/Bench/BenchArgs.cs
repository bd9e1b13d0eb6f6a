using System.Globalization;

namespace PromptAD.Bench;

/// <summary>Reads `--name value` options and `--name` flags from a benchmark suite's argument list.</summary>
internal static class BenchArgs
{
    /// <summary>The value after <paramref name="name"/>, or null when the option is absent (or has no value).</summary>
    public static string? String(IReadOnlyList<string> args, string name)
    {
        for (int i = 0; i + 1 < args.Count; i++)
            if (args[i] == name)
                return args[i + 1];
        return null;
    }

    /// <summary>Whether the flag <paramref name="name"/> is present.</summary>
    public static bool Flag(IReadOnlyList<string> args, string name) => args.Contains(name);

    public static int Int(IReadOnlyList<string> args, string name, int fallback)
    {
        string? text = String(args, name);
        if (text is null) return fallback;
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v > 0
            ? v
            : throw new ArgumentException($"{name} expects a positive integer, got '{text}'");
    }

    public static double Double(IReadOnlyList<string> args, string name, double fallback)
    {
        string? text = String(args, name);
        if (text is null) return fallback;
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v >= 0 && double.IsFinite(v)
            ? v
            : throw new ArgumentException($"{name} expects a non-negative number, got '{text}'");
    }

    /// <summary>The first argument that is neither one of <paramref name="valued"/> (with its value) nor one of
    /// <paramref name="flags"/>, or null when every argument is known; for suites that reject unknown options.</summary>
    public static string? Unknown(IReadOnlyList<string> args, IReadOnlyCollection<string> valued, IReadOnlyCollection<string> flags)
    {
        for (int i = 0; i < args.Count; i++)
        {
            if (valued.Contains(args[i]) && i + 1 < args.Count) i++;
            else if (!flags.Contains(args[i])) return args[i];
        }
        return null;
    }
}
