using System.Text.Json.Serialization;

namespace PromptAD.Output;

/// <summary>The metrics JSON document: values ×100; null where a metric was not computed (JSON has no NaN).</summary>
public sealed record MetricsDocument(
    string Category,
    int Shots,
    int Seed,
    string Backbone,
    double? ImageAuroc,
    double? ImageAupr,
    double? ImageF1Max,
    double? PixelAuroc,
    double? PixelAupro,
    double TrainSeconds,
    double TestSeconds)
{
    public static MetricsDocument From(RunMetrics m)
    {
        ArgumentNullException.ThrowIfNull(m);
        return new MetricsDocument(m.Category, m.Shots, m.Seed, m.Backbone,
            Percent(m.ImageAuroc), Percent(m.ImageAupr), Percent(m.ImageF1Max), Percent(m.PixelAuroc), Percent(m.PixelAupro),
            m.TrainSeconds, m.TestSeconds);
    }

    private static double? Percent(double fraction) => double.IsNaN(fraction) ? null : fraction * 100;
}

/// <summary>Source-generated serialization (NativeAOT has no reflection-based JSON).</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(MetricsDocument))]
[JsonSerializable(typeof(List<MetricsDocument>))]
public sealed partial class OutputJsonContext : JsonSerializerContext;
