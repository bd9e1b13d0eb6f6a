using PromptAD.Calibration;
using PromptAD.Clip;
using PromptAD.Model;
using PromptAD.Pipeline;

namespace PromptAD.Serving;

/// <summary>One served model: its detector and decision threshold (null: no decision).</summary>
internal sealed record ModelEntry(Detector Detector, DecisionThreshold? Threshold);

/// <summary>
/// The models a <see cref="ScoringService"/> serves at one time, by name. A reload builds a new set and retires the old
/// one, whose detectors are released once the last image accepted under it has its answer. Accept, Release and Retire
/// are called under the service's queue lock.
/// </summary>
internal sealed class ModelSet : IDisposable
{
    private readonly Dictionary<string, ModelEntry> _entries;
    private int _jobs;
    private bool _retired, _disposed;

    private ModelSet(Dictionary<string, ModelEntry> entries) => _entries = entries;

    public IReadOnlyDictionary<string, ModelEntry> Entries => _entries;

    public IReadOnlyCollection<string> Names => _entries.Keys;

    /// <summary>A detector per model; every model must fit the weights' backbone.</summary>
    public static ModelSet Build(ClipWeights weights, IReadOnlyDictionary<string, PromptAdModel> models, int outputSize, int batchSize, float? thresholdOverride)
    {
        if (models.Count == 0) throw new ArgumentException("no model to serve");
        var entries = new Dictionary<string, ModelEntry>(StringComparer.Ordinal);
        try
        {
            foreach (var (name, model) in models)
            {
                // A calibrated threshold measured at another map size is refused here, for a reload as at start.
                var threshold = DecisionThreshold.Resolve(thresholdOverride, model.Metadata.Threshold, outputSize, $"model '{name}'");
                entries[name] = new ModelEntry(new Detector(weights, model, outputSize, batchSize), threshold);
            }
        }
        catch
        {
            foreach (var e in entries.Values) e.Detector.Dispose();
            throw;
        }

        return new ModelSet(entries);
    }

    /// <summary>Scores one mid-grey image with every model: a model that cannot score fails here, not on a request.</summary>
    public void Warm(ClipWeights weights)
    {
        int side = weights.Config.Vision.ImageSize;
        var grey = new float[3 * side * side]; // 0 after normalization: the mean colour
        foreach (var (name, e) in _entries)
        {
            var score = e.Detector.ScoreImages([grey])[0];
            if (!float.IsFinite(score.Score)) throw new InvalidDataException($"model '{name}' scores a grey test image as {score.Score}; it is not served");
        }
    }

    public (string Name, ModelEntry Entry) Resolve(string? model)
    {
        if (string.IsNullOrEmpty(model))
        {
            if (_entries.Count == 1) { var only = _entries.First(); return (only.Key, only.Value); }
            throw new UnknownModelException(null, _entries.Keys);
        }

        return _entries.TryGetValue(model, out var m) ? (model, m) : throw new UnknownModelException(model, _entries.Keys);
    }

    public void Accept() => _jobs++;

    public void Release()
    {
        if (--_jobs == 0 && _retired) Dispose();
    }

    /// <summary>No new image comes under this set; it is released now or after its last one.</summary>
    public void Retire()
    {
        _retired = true;
        if (_jobs == 0) Dispose();
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var e in _entries.Values) e.Detector.Dispose();
    }
}
