using System.Text.Json.Serialization;

namespace PromptAD.Serving;

/// <summary>
/// What the HTTP front door offers the people who run it, beside scoring: the /metrics registry, a log for one JSON
/// line per request (null: none), and the model reload behind POST /reload (null: not offered).
/// </summary>
public sealed record HttpOperations(ServiceMetrics Metrics, TextWriter? Log, Func<ReloadOutcome>? Reload);

/// <summary>A reload's result: the models now served, or why the old ones were kept.</summary>
public sealed record ReloadOutcome(bool Ok, IReadOnlyList<string> Models, string? Error);

/// <summary>GET /ready and POST /reload answers.</summary>
public sealed record OperationsAnswer(string Status, IReadOnlyList<string>? Models = null, string? Error = null);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(OperationsAnswer))]
public sealed partial class OperationsJsonContext : JsonSerializerContext;
