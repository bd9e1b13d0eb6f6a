using System.Diagnostics;
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
/// batches without anyone waiting for a batch to fill. Decoding happens on the caller's thread, within a budget of
/// decoded pixels in flight (<see cref="DecodedPixelBudget"/>): a burst of huge images waits its turn (or, past
/// <see cref="DecodeWait"/>, is refused as busy) instead of taking the machine's memory.
/// <see cref="StopAsync"/> refuses new images and returns once every accepted one has its answer.
/// </summary>
public sealed class ScoringService : IDisposable
{
    private readonly ClipWeights _weights;
    private readonly float? _thresholdOverride;
    private ModelSet _models; // replaced whole by Reload; jobs hold the set they were accepted under
    private readonly object _scoring = new(); // held while the worker scores a batch, and while new models warm up
    private readonly Channel<Job> _queue = Channel.CreateUnbounded<Job>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _worker;
    private readonly ClipPreprocessor _pre;
    private int _stopping;

    /// <param name="models">Name → model; every model must fit <paramref name="weights"/>' backbone.</param>
    /// <param name="thresholdOverride">Decision threshold for every model instead of each one's calibrated threshold
    /// (resolved by <see cref="DecisionThreshold.Resolve"/>: a calibrated threshold measured at another map size is refused).</param>
    public ScoringService(ClipWeights weights, IReadOnlyDictionary<string, PromptAdModel> models, int outputSize, int batchSize,
        float? thresholdOverride = null, DecodedPixelBudget? decodeBudget = null)
    {
        DecodeBudget = decodeBudget ?? new DecodedPixelBudget();
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (models.Count == 0) throw new ArgumentException("no model to serve");
        BatchSize = batchSize;
        OutputSize = outputSize;
        _weights = weights;
        _thresholdOverride = thresholdOverride;
        _models = ModelSet.Build(weights, models, outputSize, batchSize, thresholdOverride);
        _pre = new ImageBatchEncoder(weights, MidFeatureMode.AsPublished).Preprocessor; // the one image path's preprocessing (no encoding here)
        _worker = Task.Factory.StartNew(Work, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
    }

    public int BatchSize { get; }

    /// <summary>The pixels being decoded at once, across all callers.</summary>
    public DecodedPixelBudget DecodeBudget { get; }

    /// <summary>How long an upload may wait for decoding room before <see cref="ScoreAsync"/> refuses it as busy.</summary>
    public TimeSpan DecodeWait { get; init; } = TimeSpan.FromSeconds(60);
    public int OutputSize { get; }
    public IReadOnlyCollection<string> ModelNames => Volatile.Read(ref _models).Names;

    /// <summary>The models served now: name → (backbone, threshold).</summary>
    public IReadOnlyList<(string Name, string Backbone, float? Threshold)> Models =>
        [.. Volatile.Read(ref _models).Entries.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => (e.Key, e.Value.Detector.Config.Name, e.Value.Threshold?.Value))];

    /// <summary>True once every model has scored a first image (<see cref="Warm"/>): ready for traffic.</summary>
    public bool Warmed => Volatile.Read(ref _warmed) != 0;
    private int _warmed;

    /// <summary>Images accepted and not yet taken into a batch.</summary>
    public int Queued => Volatile.Read(ref _queued);
    private int _queued;

    /// <summary>Sees each batch's size and the seconds it took to score (the /metrics histograms).</summary>
    public Action<int, double>? BatchScored { get; set; }
    public bool Stopping => Volatile.Read(ref _stopping) != 0;

    /// <summary>Images accepted and not yet answered.</summary>
    public int Pending => _pending;
    private int _pending;

    /// <summary>Called on the worker before each batch is scored, with its size (a test and benchmark hook).</summary>
    public Action<int>? BeforeBatch { get; set; }

    /// <summary>The decision threshold of <paramref name="model"/>: the override, its calibrated one, or null.</summary>
    public DecisionThreshold? ThresholdOf(string model) => Resolve(model).Entry.Threshold;

    /// <summary>Scores one grey image with every model (the first call of a backend compiles and allocates), then
    /// marks the service ready.</summary>
    public void Warm()
    {
        lock (_scoring) Volatile.Read(ref _models).Warm(_weights);
        Volatile.Write(ref _warmed, 1);
    }

    /// <summary>
    /// Replaces the served models without dropping a request: the new ones are checked against the weights, get their
    /// detectors and score a first image (blocking the worker only for that), then take over; images accepted before
    /// finish on the models they were accepted under, which are released after. On failure nothing changes and the
    /// exception says why.
    /// </summary>
    public void Reload(IReadOnlyDictionary<string, PromptAdModel> models)
    {
        ModelSet next;
        lock (_scoring)
        {
            next = ModelSet.Build(_weights, models, OutputSize, BatchSize, _thresholdOverride);
            try { next.Warm(_weights); }
            catch
            {
                next.Dispose();
                throw;
            }
        }

        ModelSet old;
        lock (_queue)
        {
            old = _models;
            Volatile.Write(ref _models, next);
            old.Retire();
        }
    }

    /// <summary>Decodes an encoded image (PNG, JPEG, …) and scores it; <paramref name="keepThumbnail"/> also returns the
    /// image resized to the map size (for a heatmap).</summary>
    /// <exception cref="ImageLoadException">The bytes are not a readable image.</exception>
    /// <exception cref="UnknownModelException">No model of that name is loaded.</exception>
    /// <exception cref="ServiceStoppingException">The service is shutting down.</exception>
    /// <exception cref="ServiceBusyException">No decoding room within <see cref="DecodeWait"/>.</exception>
    public async Task<ServiceScore> ScoreAsync(string? model, Stream image, string name, bool keepThumbnail = false)
    {
        var (modelName, _) = Resolve(model);
        CheckRunning();
        var (w, h) = ImageLoader.Dimensions(image, name);
        var (chw, thumbnail, decodeSeconds) = await Decode((long)w * h, DecodeWait, () => ImageLoader.Load(image, name), keepThumbnail).ConfigureAwait(false);
        return await Enqueue(modelName, chw, thumbnail, decodeSeconds).ConfigureAwait(false);
    }

    /// <summary>Scores an image file (the stdin/stdout front door, where the caller names local files; it reads ahead a
    /// bounded number of lines, so it waits for decoding room as long as it takes).</summary>
    public async Task<ServiceScore> ScoreFileAsync(string? model, string path, bool keepThumbnail = false)
    {
        var (modelName, _) = Resolve(model);
        CheckRunning();
        var (w, h) = ImageLoader.Dimensions(path);
        var (chw, thumbnail, decodeSeconds) = await Decode((long)w * h, Timeout.InfiniteTimeSpan, () => ImageLoader.Load(path), keepThumbnail).ConfigureAwait(false);
        return await Enqueue(modelName, chw, thumbnail, decodeSeconds).ConfigureAwait(false);
    }

    /// <summary>Decodes within the budget; the full-size pixels live only inside the lease (and the frame of <see cref="Convert"/>).
    /// The seconds returned are the decoding's own (the wait for room is not in them).</summary>
    private async Task<(float[] Chw, RgbImage? Thumbnail, double Seconds)> Decode(long pixels, TimeSpan wait, Func<RgbImage> load, bool keepThumbnail)
    {
        var lease = await DecodeBudget.AcquireAsync(pixels, wait).ConfigureAwait(false);
        try
        {
            long start = Stopwatch.GetTimestamp();
            var (chw, thumbnail) = Convert(load, keepThumbnail);
            return (chw, thumbnail, Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
        finally { lease.Dispose(); }
    }

    private (float[] Chw, RgbImage? Thumbnail) Convert(Func<RgbImage> load, bool keepThumbnail)
    {
        var rgb = load();
        return (_pre.Preprocess(rgb), keepThumbnail ? PillowBicubic.Resize(rgb, OutputSize, OutputSize) : null);
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

    private (string Name, ModelEntry Entry) Resolve(string? model) => Volatile.Read(ref _models).Resolve(model);

    private void CheckRunning()
    {
        if (Stopping) throw new ServiceStoppingException();
    }

    private Task<ServiceScore> Enqueue(string model, float[] chw, RgbImage? thumbnail, double decodeSeconds)
    {
        lock (_queue) // so that no image slips in after StopAsync completed the queue, and none is tied to a retired set
        {
            var set = _models;
            var (name, entry) = set.Resolve(model); // a reload between Resolve and here may have removed it
            var job = new Job(name, entry, set, chw, thumbnail, decodeSeconds, Stopwatch.GetTimestamp(),
                new TaskCompletionSource<ServiceScore>(TaskCreationOptions.RunContinuationsAsynchronously));
            if (!_queue.Writer.TryWrite(job)) throw new ServiceStoppingException();
            set.Accept();
            Interlocked.Increment(ref _pending);
            Interlocked.Increment(ref _queued);
            return job.Answer.Task;
        }
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
            Interlocked.Add(ref _queued, -batch.Count);
            long batchStart = Stopwatch.GetTimestamp();
            BeforeBatch?.Invoke(batch.Count);
            lock (_scoring)
            {
                // By entry, not name: across a reload one name may stand for two models in the same batch.
                foreach (var group in batch.GroupBy(j => j.Entry))
                {
                    var jobs = group.ToList();
                    long start = Stopwatch.GetTimestamp();
                    try
                    {
                        var scores = group.Key.Detector.ScoreImages([.. jobs.Select(j => j.Chw)]);
                        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
                        for (int i = 0; i < jobs.Count; i++)
                        {
                            var timings = new ServiceTimings(jobs[i].DecodeSeconds, Stopwatch.GetElapsedTime(jobs[i].EnqueuedAt, batchStart).TotalSeconds, seconds, batch.Count);
                            jobs[i].Answer.TrySetResult(new ServiceScore(jobs[i].Model, scores[i], group.Key.Threshold, jobs[i].Thumbnail) { Timings = timings });
                        }
                    }
                    catch (Exception e)
                    {
                        foreach (var j in jobs) j.Answer.TrySetException(e);
                    }
                    finally
                    {
                        Interlocked.Add(ref _pending, -jobs.Count);
                        lock (_queue)
                        {
                            foreach (var j in jobs) j.Set.Release();
                        }
                    }
                }
            }

            BatchScored?.Invoke(batch.Count, Stopwatch.GetElapsedTime(batchStart).TotalSeconds);
        }
    }

    public void Dispose()
    {
        StopAsync().GetAwaiter().GetResult();
        lock (_queue) _models.Retire();
    }

    private sealed record Job(string Model, ModelEntry Entry, ModelSet Set, float[] Chw, RgbImage? Thumbnail, double DecodeSeconds, long EnqueuedAt,
        TaskCompletionSource<ServiceScore> Answer);
}

/// <summary>Where one image's time went: decoding (on the caller's thread), waiting in the queue, and its batch's
/// scoring (seconds), and how many images that batch held.</summary>
public sealed record ServiceTimings(double DecodeSeconds, double QueueSeconds, double ScoreSeconds, int BatchSize);

/// <summary>One answer: the model that scored, the score, and the decision at that model's threshold (null: none).</summary>
public sealed record ServiceScore(string Model, ImageScore Score, DecisionThreshold? Decision, RgbImage? Thumbnail)
{
    public float? Threshold => Decision?.Value;
    public bool? Anomalous => Decision?.IsAnomalous(Score.Score);

    /// <summary>Where the time went (null when unknown).</summary>
    public ServiceTimings? Timings { get; init; }
}

public sealed class UnknownModelException(string? name, IEnumerable<string> loaded) : Exception(name is null
    ? $"several models are loaded ({string.Join(", ", loaded.Order(StringComparer.Ordinal))}): name one"
    : $"no model named '{name}' is loaded (loaded: {string.Join(", ", loaded.Order(StringComparer.Ordinal))})");

public sealed class ServiceStoppingException() : Exception("the service is shutting down");
