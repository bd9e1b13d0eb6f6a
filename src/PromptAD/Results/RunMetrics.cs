using PromptAD.Data;
using PromptAD.Evaluation;
using PromptAD.Scoring;

namespace PromptAD.Results;

/// <summary>
/// One (category, shots, seed) run: what was run, its <see cref="EvaluationMetrics"/> (fractions) and its times.
/// <paramref name="TrainSeconds"/> is NaN when unknown (a model trained before its training time was recorded).
/// </summary>
public sealed record RunMetrics(
    string Category,
    int Shots,
    int Seed,
    string Backbone,
    EvaluationMetrics Metrics,
    double TrainSeconds,
    double TestSeconds)
{
    /// <summary>The metric's value as a fraction (NaN when not computed).</summary>
    public double Of(ResultMetric metric) => Metrics[metric];
}

/// <summary>One row of the per-image scores file.</summary>
public sealed record ImageResult(string ImagePath, string DefectType, bool IsAnomalous, float Score, float PromptScore, float VisionMax)
{
    public static ImageResult From(TestSample sample, ImageScore score)
    {
        ArgumentNullException.ThrowIfNull(sample);
        ArgumentNullException.ThrowIfNull(score);
        return new ImageResult(sample.ImagePath, sample.DefectType, sample.IsAnomalous, score.Score, score.PromptScore, score.VisionMax);
    }
}

/// <summary>One row of predict's scores file.</summary>
/// <param name="Heatmap">The heatmap's path relative to the output folder.</param>
/// <param name="Anomalous">The verdict at the threshold; null when no threshold was given.</param>
public sealed record Prediction(string ImagePath, float Score, float PromptScore, float VisionMax, string Heatmap, bool? Anomalous);
