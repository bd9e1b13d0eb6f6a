using System.Text;
using System.Text.Json;
using PromptAD.Clip;

namespace PromptAD.Serving;

/// <summary>
/// Reloads a running service's models from the same --model arguments (a folder picks up new files): load, check
/// against the loaded weights (backbone, weights' hash), warm, swap (<see cref="ScoringService.Reload"/>). A failed
/// reload keeps the old models serving and says why, in the answer and in the log. One reload at a time.
/// </summary>
public sealed class ServiceReloader(ScoringService service, IReadOnlyList<string> modelSpecs, ClipConfig config, string weightsSha256,
    ServiceMetrics metrics, TextWriter log)
{
    private readonly Lock _one = new();

    public ReloadOutcome Reload()
    {
        lock (_one)
        {
            ReloadOutcome outcome;
            try
            {
                var paths = ModelList.Resolve(modelSpecs);
                var loaded = ModelList.Load(paths);
                foreach (var (name, model) in loaded)
                {
                    try { model.CheckCompatible(config, weightsSha256); }
                    catch (Exception e) when (e is not OutOfMemoryException) { throw new InvalidDataException($"model '{name}' ({paths[name]}): {e.Message}", e); }
                }

                service.Reload(loaded);
                outcome = new ReloadOutcome(true, [.. service.ModelNames.Order(StringComparer.Ordinal)], null);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                outcome = new ReloadOutcome(false, [.. service.ModelNames.Order(StringComparer.Ordinal)], e.Message);
            }

            metrics.Reload(outcome.Ok);
            string line = Line(outcome);
            lock (log) log.WriteLine(line);
            return outcome;
        }
    }

    /// <summary>The reload as one JSON log line, like the requests'.</summary>
    private static string Line(ReloadOutcome outcome)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("time", RequestRecord.Now());
            w.WriteString("event", outcome.Ok ? "reloaded" : "reload failed, still serving the previous models");
            w.WriteStartArray("models");
            foreach (var m in outcome.Models) w.WriteStringValue(m);
            w.WriteEndArray();
            if (outcome.Error is not null) w.WriteString("error", outcome.Error);
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
