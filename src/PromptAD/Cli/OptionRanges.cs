using System.CommandLine;

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
        if (value < range.Min || value > range.Max) throw new ArgumentException(OutOfRange(option, range, value));
    }

    /// <summary>The (int or int?) option refuses, at parse time (a usage error), any value outside <paramref name="range"/>.</summary>
    public static Option<T> InRange<T>(this Option<T> option, (int Min, int Max) range)
    {
        option.Validators.Add(result =>
        {
            if (result.Tokens.Count > 0 && int.TryParse(result.Tokens[^1].Value, out int v) && (v < range.Min || v > range.Max))
                result.AddError(OutOfRange(option.Name, range, v));
        });
        return option;
    }

    /// <summary>A rate option (--fpr) must lie strictly between 0 and 1.</summary>
    public static Option<double> AsRate(this Option<double> option)
    {
        option.Validators.Add(result =>
        {
            if (result.Tokens.Count > 0 && double.TryParse(result.Tokens[^1].Value, System.Globalization.NumberStyles.Float,
                    System.Globalization.CultureInfo.InvariantCulture, out double v) && !(v >= Calibration.GoodScoreThreshold.MinRate && v < 1))
                result.AddError($"{option.Name} must be a rate from {Calibration.GoodScoreThreshold.MinRate.ToString("0e-0", System.Globalization.CultureInfo.InvariantCulture)} up to (not including) 1, got {result.Tokens[^1].Value}");
        });
        return option;
    }

    private static string OutOfRange(string option, (int Min, int Max) range, int value) =>
        $"{option} must be between {range.Min} and {range.Max}, got {value}";
}
