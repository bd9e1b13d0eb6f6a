namespace PromptAD.Cli;

/// <summary>
/// The accepted range of every numeric option, checked before any work (a usage error naming the option and range).
/// The bounds are what the engine can do in memory, not what is sensible: --size 4096 already makes 64 MB per
/// anomaly map; 100000 would overflow the map's element count.
/// </summary>
internal static class OptionRanges
{
    public static readonly (int Min, int Max) Size = (1, 4096);
    public static readonly (int Min, int Max) Batch = (1, 1024);
    public static readonly (int Min, int Max) Epochs = (0, 100_000);
    public static readonly (int Min, int Max) Seeds = (1, 1000);
    public static readonly (int Min, int Max) Shots = (1, 1024);

    /// <summary>"(1–4096)" for help texts.</summary>
    public static string Text((int Min, int Max) range) => $"{range.Min}–{range.Max}";

    public static void Check(int value, string option, (int Min, int Max) range)
    {
        if (value < range.Min || value > range.Max)
            throw new ArgumentException($"{option} must be between {range.Min} and {range.Max}, got {value}");
    }

    /// <summary>A threshold or other score-valued option must be a finite number (NaN would make every verdict "no").</summary>
    public static void CheckFinite(float? value, string option)
    {
        if (value is { } v && !float.IsFinite(v)) throw new ArgumentException($"{option} must be a finite number, got {v}");
    }
}
