using System.Globalization;

namespace PromptAD.Jobs;

/// <summary>Wall seconds of `run`'s stages, summed over the job: decoding and encoding the images (once per
/// category), training, scoring the test images, computing the metrics.</summary>
internal sealed class StageTimes
{
    public double Decode { get; set; }
    public double Encode { get; set; }
    public double Train { get; set; }
    public double Score { get; set; }
    public double Metrics { get; set; }

    /// <summary>Runs scored and evaluated (the score and metrics stages are summed over them).</summary>
    public int Runs { get; set; }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"decode {Decode:F1} s, encode {Encode:F1} s, train {Train:F1} s, score {Score:F1} s, metrics {Metrics:F1} s") +
        (Runs > 0 ? string.Create(CultureInfo.InvariantCulture, $" (score + metrics {(Score + Metrics) / Runs:F2} s per run)") : "");
}
