using System.Text;
using System.Text.Json;
using PromptAD.Evaluation;

namespace PromptAD.Results.Report;

/// <summary>One scored test image as the report shows it.</summary>
/// <param name="Path">The image's path relative to the dataset root ('/' separated).</param>
/// <param name="Heatmap">Its heatmap relative to the results folder ('/' separated), or null when none was written.</param>
public sealed record ReportImage(string Path, string DefectType, bool IsAnomalous, double Score, string? Heatmap);

/// <summary>The threshold the report marks: the model's stored one when it has one, else the F1-optimal one.</summary>
public sealed record ReportThreshold(double Value, string Source)
{
    /// <summary>The report's one decision: flagged when the image score is at or above the threshold.</summary>
    public bool Flags(double score) => score >= Value;
}

/// <summary>
/// What a test run's report is drawn from besides metrics.json, kept in report-data.json so that
/// <c>promptad report</c> can redraw it later: every scored image, the curves from the metrics' own sweeps (thinned),
/// and the threshold. Written and read by hand with <see cref="Utf8JsonWriter"/>/<see cref="JsonDocument"/> (NativeAOT).
/// </summary>
public sealed record ReportData(IReadOnlyList<ReportImage> Images, MetricCurves Curves, ReportThreshold Threshold)
{
    public const string FileName = "report-data.json";

    private const int Version = 1;

    public string Serialize()
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = false }))
        {
            w.WriteStartObject();
            w.WriteNumber("version", Version);
            w.WriteStartObject("threshold");
            w.WriteNumber("value", Threshold.Value);
            w.WriteString("source", Threshold.Source);
            w.WriteEndObject();
            w.WriteNumber("f1_threshold", Curves.Image.F1Threshold);
            WritePoints(w, "image_roc", Curves.Image.Roc);
            WritePoints(w, "image_pr", Curves.Image.PrecisionRecall);
            WritePoints(w, "pixel_roc", Curves.PixelRoc);
            WritePoints(w, "pro", Curves.Pro);
            w.WriteStartArray("images");
            foreach (var image in Images)
            {
                w.WriteStartObject();
                w.WriteString("path", image.Path);
                w.WriteString("defect_type", image.DefectType);
                w.WriteBoolean("anomalous", image.IsAnomalous);
                w.WriteNumber("score", image.Score);
                if (image.Heatmap is null) w.WriteNull("heatmap");
                else w.WriteString("heatmap", image.Heatmap);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    private static void WritePoints(Utf8JsonWriter w, string name, IReadOnlyList<CurvePoint>? points)
    {
        if (points is null)
        {
            w.WriteNull(name);
            return;
        }

        w.WriteStartArray(name);
        foreach (var p in points)
        {
            w.WriteStartArray();
            w.WriteNumberValue(p.X);
            w.WriteNumberValue(p.Y);
            w.WriteEndArray();
        }

        w.WriteEndArray();
    }

    /// <exception cref="FormatException">The text is not a report-data file; the message says what is wrong.</exception>
    public static ReportData Parse(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new FormatException("not a JSON object");
        JsonElement Get(JsonElement e, string key) => e.TryGetProperty(key, out var v) ? v : throw new FormatException($"no \"{key}\"");
        double Number(JsonElement e, string key) => Get(e, key) is { ValueKind: JsonValueKind.Number } v ? v.GetDouble() : throw new FormatException($"\"{key}\" is not a number");
        string Text(JsonElement e, string key) => Get(e, key) is { ValueKind: JsonValueKind.String } v ? v.GetString()! : throw new FormatException($"\"{key}\" is not a string");
        if (Number(root, "version") != Version) throw new FormatException($"version {Number(root, "version")} is not {Version}");
        List<CurvePoint>? Points(string key)
        {
            var e = Get(root, key);
            if (e.ValueKind == JsonValueKind.Null) return null;
            if (e.ValueKind != JsonValueKind.Array) throw new FormatException($"\"{key}\" is not an array");
            return [.. e.EnumerateArray().Select(p => p.ValueKind == JsonValueKind.Array && p.GetArrayLength() == 2
                ? new CurvePoint(p[0].GetDouble(), p[1].GetDouble()) : throw new FormatException($"\"{key}\" holds a point that is not [x, y]"))];
        }

        var threshold = Get(root, "threshold");
        var images = Get(root, "images");
        if (images.ValueKind != JsonValueKind.Array) throw new FormatException("\"images\" is not an array");
        var list = images.EnumerateArray().Select(i => new ReportImage(Text(i, "path"), Text(i, "defect_type"),
            Get(i, "anomalous").ValueKind switch { JsonValueKind.True => true, JsonValueKind.False => false, _ => throw new FormatException("\"anomalous\" is not a boolean") },
            Number(i, "score"), Get(i, "heatmap").ValueKind == JsonValueKind.Null ? null : Text(i, "heatmap"))).ToList();
        var imageCurves = new ImageCurves(Points("image_roc") ?? throw new FormatException("\"image_roc\" is null"),
            Points("image_pr") ?? throw new FormatException("\"image_pr\" is null"), Number(root, "f1_threshold"));
        return new ReportData(list, new MetricCurves(imageCurves, Points("pixel_roc"), Points("pro")),
            new ReportThreshold(Number(threshold, "value"), Text(threshold, "source")));
    }
}
