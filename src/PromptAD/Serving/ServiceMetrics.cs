using System.Text;

namespace PromptAD.Serving;

/// <summary>
/// What GET /metrics shows (Prometheus text format): HTTP requests by endpoint and status, images scored and anomalous
/// verdicts by model, latency histograms per stage (decode, queue, score, total), batch sizes, requests in flight,
/// images queued, resident memory, readiness, reloads by result, and one info series per served model with its backbone.
/// </summary>
public sealed class ServiceMetrics
{
    /// <summary>Latency buckets in seconds: 1 ms … 30 s (CPU scoring of a ViT-B is tens to hundreds of ms).</summary>
    private static readonly double[] LatencyBounds = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    private static readonly double[] BatchBounds = [1, 2, 4, 8, 16, 32, 64];

    private readonly Prometheus.Counter _requests = new("promptad_http_requests_total", "HTTP requests answered, by endpoint and status code.");
    private readonly Prometheus.Counter _images = new("promptad_images_scored_total", "Images scored, by model.");
    private readonly Prometheus.Counter _anomalous = new("promptad_anomalous_total", "Images judged anomalous (score at or above the model's threshold), by model.");
    private readonly Prometheus.Counter _reloads = new("promptad_reloads_total", "Model reloads, by result (ok: swapped in; failed: the old models kept serving).");
    private readonly Prometheus.Histogram _batches = new("promptad_batch_size", "Images scored together in one batch.", BatchBounds);
    private readonly Prometheus.Histogram[] _stages =
    [
        new("promptad_decode_seconds", "Time to decode and preprocess one uploaded image.", LatencyBounds),
        new("promptad_queue_seconds", "Time an image waited for the scoring worker.", LatencyBounds),
        new("promptad_score_seconds", "Time to encode and score the batch an image was in.", LatencyBounds),
        new("promptad_request_seconds", "Time from a /score request's arrival to its answer.", LatencyBounds),
    ];

    /// <summary>Counts one answered request (endpoint: the path, or "other" for unknown paths).</summary>
    public void Request(string endpoint, int status) =>
        _requests.Add($"endpoint=\"{Prometheus.Label(endpoint)}\",status=\"{status}\"");

    /// <summary>Requests counted so far for an endpoint and status (tests, and the counters' own check).</summary>
    public double Requests(string endpoint, int status) => _requests.Get($"endpoint=\"{Prometheus.Label(endpoint)}\",status=\"{status}\"");

    /// <summary>One scored image: its verdict and where its time went.</summary>
    public void Scored(ServiceScore score, double totalSeconds)
    {
        string model = $"model=\"{Prometheus.Label(score.Model)}\"";
        _images.Add(model);
        if (score.Anomalous is true) _anomalous.Add(model);
        else _anomalous.Add(model, 0); // the series exists from the first image on
        if (score.Timings is { } t)
        {
            _stages[0].Observe(t.DecodeSeconds);
            _stages[1].Observe(t.QueueSeconds);
            _stages[2].Observe(t.ScoreSeconds);
        }

        _stages[3].Observe(totalSeconds);
    }

    public void Batch(int size) => _batches.Observe(size);

    public void Reload(bool ok) => _reloads.Add(ok ? "result=\"ok\"" : "result=\"failed\"");

    /// <summary>The exposition text; <paramref name="service"/> null while the models load.</summary>
    public string Render(ScoringService? service, int inFlight)
    {
        var sb = new StringBuilder();
        _requests.Render(sb);
        _images.Render(sb);
        _anomalous.Render(sb);
        foreach (var h in _stages) h.Render(sb);
        _batches.Render(sb);
        _reloads.Render(sb);
        Gauge(sb, "promptad_requests_in_flight", "HTTP requests accepted and not yet answered.", inFlight);
        Gauge(sb, "promptad_images_queued", "Images accepted and waiting for the scoring worker.", service?.Queued ?? 0);
        Gauge(sb, "promptad_images_pending", "Images accepted and not yet answered (queued or being scored).", service?.Pending ?? 0);
        Gauge(sb, "promptad_resident_memory_bytes", "Resident memory of the process.", Environment.WorkingSet);
        Gauge(sb, "promptad_ready", "1 when the models are loaded and warmed (GET /ready answers 200).", service is { Warmed: true } ? 1 : 0);
        Prometheus.Header(sb, "promptad_model_info", "gauge", "One series per served model: its name, backbone and decision threshold (empty: none).");
        foreach (var (name, backbone, threshold) in service?.Models ?? [])
        {
            string t = threshold is { } v ? Prometheus.Number(v) : "";
            Prometheus.Sample(sb, "promptad_model_info", $"model=\"{Prometheus.Label(name)}\",backbone=\"{Prometheus.Label(backbone)}\",threshold=\"{t}\"", 1);
        }

        return sb.ToString();
    }

    private static void Gauge(StringBuilder sb, string name, string help, double value)
    {
        Prometheus.Header(sb, name, "gauge", help);
        Prometheus.Sample(sb, name, "", value);
    }
}
