using System.Text;
using System.Text.Json;
using PromptAD.Evaluation;

namespace PromptAD.Results;

/// <summary>
/// metrics.json: one run's <see cref="RunMetrics"/> as an indented JSON object with the metrics ×100, null where a
/// metric was not computed (JSON has no NaN), and train_seconds left out when unknown. Written and read by hand with
/// <see cref="Utf8JsonWriter"/>/<see cref="JsonDocument"/> (NativeAOT has no reflection-based JSON).
/// </summary>
public static class MetricsJson
{
    public static string Serialize(RunMetrics run)
    {
        ArgumentNullException.ThrowIfNull(run);
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            Write(w, run);
        }

        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    public static string Serialize(IEnumerable<RunMetrics> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartArray();
            foreach (RunMetrics run in runs)
            {
                Write(w, run);
            }

            w.WriteEndArray();
        }

        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    private static void Write(Utf8JsonWriter w, RunMetrics run)
    {
        w.WriteStartObject();
        w.WriteString("category", run.Category);
        w.WriteNumber("shots", run.Shots);
        w.WriteNumber("seed", run.Seed);
        w.WriteString("backbone", run.Backbone);
        foreach (ResultMetric metric in ResultMetrics.All)
        {
            double v = run.Of(metric);
            if (double.IsNaN(v))
            {
                w.WriteNull(metric.Key());
            }
            else
            {
                w.WriteNumber(metric.Key(), v * 100);
            }
        }

        if (!double.IsNaN(run.TrainSeconds))
        {
            w.WriteNumber("train_seconds", run.TrainSeconds);
        }

        w.WriteNumber("test_seconds", run.TestSeconds);
        w.WriteEndObject();
    }

    /// <summary>Reads a metrics.json back (also those written before train_seconds became optional).</summary>
    /// <exception cref="FormatException">The text is not a metrics object; the message says what is wrong.</exception>
    public static RunMetrics Parse(string json)
    {
        using var doc = JsonDocument.Parse(json);
        JsonElement root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException("not a JSON object");
        }

        JsonElement Get(string key) => root.TryGetProperty(key, out JsonElement e) ? e : throw new FormatException($"no \"{key}\"");
        double Number(string key) => Get(key) is { ValueKind: JsonValueKind.Number } e ? e.GetDouble() : throw new FormatException($"\"{key}\" is not a number");
        int Int(string key) => Get(key) is { ValueKind: JsonValueKind.Number } e && e.TryGetInt32(out int v) ? v : throw new FormatException($"\"{key}\" is not an integer");
        string Text(string key) => Get(key) is { ValueKind: JsonValueKind.String } e ? e.GetString()! : throw new FormatException($"\"{key}\" is not a string");
        double Fraction(ResultMetric m) => Get(m.Key()).ValueKind == JsonValueKind.Null ? double.NaN : Number(m.Key()) / 100;

        var metrics = new EvaluationMetrics(Fraction(ResultMetric.ImageAuroc), Fraction(ResultMetric.ImageAupr), Fraction(ResultMetric.ImageF1Max),
            Fraction(ResultMetric.PixelAuroc), Fraction(ResultMetric.PixelAupro));
        double train = root.TryGetProperty("train_seconds", out _) ? Number("train_seconds") : double.NaN;
        return new RunMetrics(Text("category"), Int("shots"), Int("seed"), Text("backbone"), metrics, train, Number("test_seconds"));
    }
}
