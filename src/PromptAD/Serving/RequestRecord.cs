using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace PromptAD.Serving;

/// <summary>
/// One HTTP request as the operations side sees it: filled in while it is handled, then counted in /metrics and
/// written as one JSON line to the log (id, method, path, model, status, bytes in and out, the stage latencies, the
/// verdict, the error).
/// </summary>
internal sealed class RequestRecord(string id, string method, string path)
{
    private readonly long _start = Stopwatch.GetTimestamp();

    public string Id { get; } = id;
    public string Method { get; } = method;
    public string Path { get; } = path;
    public string? Model { get; set; }
    public int Status { get; set; }
    public long BytesIn { get; set; }
    public long BytesOut { get; set; }
    public ServiceScore? Scored { get; set; }
    public string? Error { get; set; }

    public double Seconds => Stopwatch.GetElapsedTime(_start).TotalSeconds;

    /// <summary>The endpoint label for /metrics: a known path, or "other" (so unknown paths cannot grow the series).</summary>
    public string Endpoint => Path is "/score" or "/health" or "/ready" or "/metrics" or "/reload" ? Path : "other";

    /// <summary>The log lines' time stamp: UTC, milliseconds, ISO 8601.</summary>
    public static string Now() => DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);

    public string ToJsonLine(double totalSeconds)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("time", Now());
            w.WriteString("id", Id);
            w.WriteString("method", Method);
            w.WriteString("path", Path);
            if (Model is not null) w.WriteString("model", Model);
            w.WriteNumber("status", Status);
            w.WriteNumber("bytes_in", BytesIn);
            w.WriteNumber("bytes_out", BytesOut);
            if (Scored is { } s)
            {
                w.WriteNumber("score", s.Score.Score);
                w.WriteString("verdict", s.Anomalous switch { true => "anomalous", false => "normal", null => "none" });
                if (s.Timings is { } t)
                {
                    w.WriteNumber("decode_ms", Math.Round(t.DecodeSeconds * 1000, 3));
                    w.WriteNumber("queue_ms", Math.Round(t.QueueSeconds * 1000, 3));
                    w.WriteNumber("score_ms", Math.Round(t.ScoreSeconds * 1000, 3));
                    w.WriteNumber("batch", t.BatchSize);
                }
            }

            w.WriteNumber("total_ms", Math.Round(totalSeconds * 1000, 3));
            if (Error is not null) w.WriteString("error", Error);
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
