using System.Text.Json.Serialization;

namespace PromptAD.Serving;

/// <summary>
/// One answer of the service, the same on both front doors (one JSON object; one line on stdout). On success
/// <see cref="Score"/> is set and <see cref="Error"/> is null; on failure only <see cref="Error"/> (and what is known).
/// </summary>
public sealed record ScoreAnswer
{
    /// <summary>The request's id (stdin/stdout), echoed so callers can match answers.</summary>
    public string? Id { get; init; }

    /// <summary>The request's id was a JSON number (<see cref="Id"/> holds its text): it is echoed as that number.</summary>
    [JsonIgnore] public bool IdIsNumber { get; init; }
    /// <summary>The image path given on stdin (never set over HTTP).</summary>
    public string? Path { get; init; }
    public string? Model { get; init; }
    public float? Score { get; init; }
    public float? PromptScore { get; init; }
    public float? VisionMax { get; init; }
    public float? Threshold { get; init; }
    /// <summary>Score ≥ threshold; null when the model has no threshold (not calibrated, no --threshold).</summary>
    public bool? Anomalous { get; init; }
    /// <summary>Path of the written heatmap PNG (stdin/stdout with --heatmaps).</summary>
    public string? Heatmap { get; init; }
    public string? Error { get; init; }

    public static ScoreAnswer From(ServiceScore s, string? id = null, string? path = null, string? heatmap = null) => new()
    {
        Id = id, Path = path, Model = s.Model, Score = s.Score.Score, PromptScore = s.Score.PromptScore, VisionMax = s.Score.VisionMax,
        Threshold = s.Threshold, Anomalous = s.Anomalous, Heatmap = heatmap,
    };
}

/// <summary>A request line on stdin: <c>{"path": "...", "model": "name", "id": "..."}</c> (model and id optional; the id a string or a number).</summary>
public sealed record ScoreRequest
{
    public string? Id { get; init; }
    [JsonIgnore] public bool IdIsNumber { get; init; }
    public string? Path { get; init; }
    public string? Model { get; init; }
}

/// <summary>GET /health.</summary>
public sealed record HealthAnswer(string Status, IReadOnlyList<string> Models, int Pending, int Batch);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ScoreAnswer))]
[JsonSerializable(typeof(ScoreRequest))]
[JsonSerializable(typeof(HealthAnswer))]
public sealed partial class ServiceJsonContext : JsonSerializerContext;
