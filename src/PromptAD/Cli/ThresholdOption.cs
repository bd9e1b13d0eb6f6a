using System.CommandLine;
using System.Globalization;
using PromptAD.Calibration;

namespace PromptAD.Cli;

/// <summary>`--threshold` of predict and serve: one definition, refused at parse time unless finite (NaN would make
/// every verdict "no"), and one way to say which threshold decides.</summary>
internal static class ThresholdOption
{
    public static Option<float?> Create(string description)
    {
        var o = new Option<float?>("--threshold") { Description = description };
        o.Validators.Add(result =>
        {
            // Text that is no number at all is the parser's own error; a number that is not finite is ours.
            if (result.Tokens is [.., var last] && float.TryParse(last.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out float v) && !float.IsFinite(v))
                result.AddError($"--threshold must be a finite number, got {last.Value}");
        });
        return o;
    }

    /// <summary>What decides, for the console: the given threshold, the calibrated one with what it rests on, or none.</summary>
    public static string Describe(DecisionThreshold? threshold) => threshold switch
    {
        null => "no threshold (not calibrated): no decision",
        { Calibrated: { } stored } => "threshold " + stored.Describe(),
        _ => $"threshold {threshold.Value.ToString("R", CultureInfo.InvariantCulture)} (--threshold)",
    };
}
