using System.Threading.Channels;
using PromptAD.Calibration;
using PromptAD.Clip;
using PromptAD.Clip.Imaging;
using PromptAD.Model;
using PromptAD.Pipeline;
using PromptAD.Scoring;

namespace PromptAD.Serving;

/// <summary>
/// Keeps the CLIP weights and one detector per model loaded and scores images as they come, from any number of
/// callers. One worker does the scoring: whatever requests are waiting when it becomes free (up to
/// <see cref="BatchSize"/>, grouped by model) go through the encoder as one batch, so concurrent clients share
/// batches without anyone waiting for a batch to fill. Decoding happens on the caller's thread.
/// <see cref="StopAsync"/> refuses new images and returns once every accepted one has its answer.
/// </summary>
public sealed class ScoringService : IDisposable
{
    private readonly Dictionary<string, (Detector Detector, DecisionThreshold? Threshold)> _models;
    private readonly Channel<Job> _queue = Channel.CreateUnbounded<Job>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _worker;
    private readonly ClipPreprocessor _pre;
    private int _stopping;

    /// <param name="models">Name → model; every model must fit <paramref name="weights"/>' backbone.</param>
    /// <param name="thresholdOverride">Decision threshold for every model instead of each one's calibrated threshold
    /// (resolved by <see cref="DecisionThreshold.Resolve"/>: a calibrated threshold measured at another map size is refused).</param>
    public ScoringService(ClipWeights weights, IReadOnlyDictionary<string, PromptAdModel> models, int outputSize, int batchSize,
        float? thresholdOverride = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (models.Count == 0) throw new ArgumentException("no model to serve");
        BatchSize = batchSize;
        OutputSize = outputSize;
        _models = new Dictionary<string, (Detector, DecisionThreshold?)>(StringComparer.Ordinal);
        try
        {
            foreach (var (name, model) in models)
            {
                var threshold = DecisionThreshold.Resolve(thresholdOverride, model.Metadata.Threshold, outputSize, $"model '{name}'");
                _models[name] = (new Detector(weights, model, outputSize, batchSize), threshold);
            }
        }
        catch
        {
            foreach (var (d, _) in _models.Values) d.Dispose();
            throw;
        }
        _pre = new ClipPreprocessor(weights.Config.Vision.ImageSize);
        _worker = Task.Factory.StartNew(Work, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
    }

    public int BatchSize { get; }
    public int OutputSize { get; }
    public IReadOnlyCollection<string> ModelNames => _models.Keys;
    public bool Stopping => Volatile.Read(ref _stopping) != 0;

    /// <summary>Images accepted and not yet answered.</summary>
    public int Pending => _pending;
    private int _pending;

    /// <summary>Called on the worker before each batch is scored, with its size (a test and benchmark hook).</summary>
    public Action<int>? BeforeBatch { get; set; }

    /// <summary>The decision threshold of <paramref name="model"/>: the override, its calibrated one, or null.</summary>
    public DecisionThreshold? ThresholdOf(string model) => Resolve(model).Threshold;

    /// <summary>Decodes an encoded image (PNG, JPEG, …) and scores it; <paramref name="keepThumbnail"/> also returns the
    /// image resized to the map size (for a heatmap).</summary>
    /// <exception cref="ImageLoadException">The bytes are not a readable image.</exception>
    /// <exception cref="UnknownModelException">No model of that name is loaded.</exception>
    /// <exception cref="ServiceStoppingException">The service is shutting down.</exception>
    public Task<ServiceScore> ScoreAsync(string? model, Stream image, string name, bool keepThumbnail = false)
    {
        var (modelName, _, _) = Resolve(model);
        CheckRunning();
        var rgb = ImageLoader.Load(image, name);
        return Enqueue(modelName, _pre.Preprocess(rgb), keepThumbnail ? PillowBicubic.Resize(rgb, OutputSize, OutputSize) : null);
    }

    /// <summary>Scores an image file (the stdin/stdout front door, where the caller names local files).</summary>
    public Task<ServiceScore> ScoreFileAsync(string? model, string path, bool keepThumbnail = false)
    {
        var (modelName, _, _) = Resolve(model);
        CheckRunning();
        var rgb = ImageLoader.Load(path);
        return Enqueue(modelName, _pre.Preprocess(rgb), keepThumbnail ? PillowBicubic.Resize(rgb, OutputSize, OutputSize) : null);
    }

    /// <summary>Refuses new images, lets the worker answer every accepted one, then returns.</summary>
    public Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopping, 1) == 0)
        {
            lock (_queue) _queue.Writer.TryComplete();
        }
        return _worker;
    }

    private (string Name, Detector Detector, DecisionThreshold? Threshold) Resolve(string? model)
    {
        if (string.IsNullOrEmpty(model))
        {
            if (_models.Count == 1) { var only = _models.First(); return (only.Key, only.Value.Detector, only.Value.Threshold); }
            throw new UnknownModelException(null, _models.Keys);
        }
        return _models.TryGetValue(model, out var m) ? (model, m.Detector, m.Threshold) : throw new UnknownModelException(model, _models.Keys);
    }

    private void CheckRunning()
    {
        if (Stopping) throw new ServiceStoppingException();
    }

    private Task<ServiceScore> Enqueue(string model, float[] chw, RgbImage? thumbnail)
    {
        var job = new Job(model, chw, thumbnail, new TaskCompletionSource<ServiceScore>(TaskCreationOptions.RunContinuationsAsynchronously));
        lock (_queue) // so that no image slips in after StopAsync completed the queue
        {
            if (!_queue.Writer.TryWrite(job)) throw new ServiceStoppingException();
            Interlocked.Increment(ref _pending);
        }
        return job.Answer.Task;
    }

    private async Task Work()
    {
        var reader = _queue.Reader;
        var batch = new List<Job>(BatchSize);
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            while (batch.Count < BatchSize && reader.TryRead(out var job)) batch.Add(job);
            if (batch.Count == 0) continue;
            BeforeBatch?.Invoke(batch.Count);
            foreach (var group in batch.GroupBy(j => j.Model))
            {
                var jobs = group.ToList();
                var (detector, threshold) = _models[group.Key];
                try
                {
                    var scores = detector.ScoreImages([.. jobs.Select(j => j.Chw)]);
                    for (int i = 0; i < jobs.Count; i++)
                        jobs[i].Answer.TrySetResult(new ServiceScore(group.Key, scores[i], threshold, jobs[i].Thumbnail));
                }
                catch (Exception e)
                {
                    foreach (var j in jobs) j.Answer.TrySetException(e);
                }
                finally
                {
                    Interlocked.Add(ref _pending, -jobs.Count);
                }
            }
        }
    }

    public void Dispose()
    {
        StopAsync().GetAwaiter().GetResult();
        foreach (var (d, _) in _models.Values) d.Dispose();
    }

    private sealed record Job(string Model, float[] Chw, RgbImage? Thumbnail, TaskCompletionSource<ServiceScore> Answer);
}

/// <summary>One answer: the model that scored, the score, and the decision at that model's threshold (null: none).</summary>
public sealed record ServiceScore(string Model, ImageScore Score, DecisionThreshold? Decision, RgbImage? Thumbnail)
{
    public float? Threshold => Decision?.Value;
    public bool? Anomalous => Decision?.IsAnomalous(Score.Score);
}

public sealed class UnknownModelException(string? name, IEnumerable<string> loaded) : Exception(name is null
    ? $"several models are loaded ({string.Join(", ", loaded.Order(StringComparer.Ordinal))}): name one"
    : $"no model named '{name}' is loaded (loaded: {string.Join(", ", loaded.Order(StringComparer.Ordinal))})");

public sealed class ServiceStoppingException() : Exception("the service is shutting down");
