using PromptAD.Clip;
using PromptAD.Model;
using PromptAD.Scoring;
using PromptAD.Tensors;

namespace PromptAD.Pipeline;

/// <summary>
/// Scores images with a trained model (SPEC §6): the image encoder's normalized features, the model's prototypes
/// and memory banks, <see cref="AnomalyScorer"/>. Needs no text encoder. Images are preprocessed CHW floats of the
/// backbone's input size (ClipPreprocessor). Owns the memory banks' backend copies.
/// </summary>
public sealed class Detector : IDisposable
{
    private readonly ClipImageEncoder _encoder;
    private readonly AnomalyScorer _scorer;
    private readonly Tensor _bank1, _bank2;

    /// <param name="outputSize">Side of the pixel map (400 in the paper's protocol).</param>
    /// <param name="batchSize">Images per encoder call and scoring batch in <see cref="ScoreImages"/>.</param>
    public Detector(ClipWeights weights, PromptAdModel model, int outputSize = AnomalyScorer.DefaultOutputSize, int batchSize = 8)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(outputSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        model.CheckCompatible(weights.Config);
        Config = weights.Config;
        Model = model;
        BatchSize = batchSize;
        _encoder = new ClipImageEncoder(weights);
        _bank1 = Upload(weights.Backend, model.Mid1);
        _bank2 = Upload(weights.Backend, model.Mid2);
        _scorer = new AnomalyScorer(model.ImagePrototypes, model.PixelPrototypes, _bank1, _bank2,
            model.Metadata.LogitScaleValue, Config.Vision.Grid, outputSize);
    }

    public ClipConfig Config { get; }
    public PromptAdModel Model { get; }
    public int BatchSize { get; }
    public int OutputSize => _scorer.OutputSize;

    /// <summary>Length of one preprocessed image: 3 × size × size.</summary>
    public int ImageLength => 3 * Config.Vision.ImageSize * Config.Vision.ImageSize;

    /// <summary>Normalized features of <paramref name="count"/> preprocessed images (CHW, one after another), on the
    /// weights' backend; the caller owns them.</summary>
    public ImageFeatures Encode(ReadOnlySpan<float> chw, int count)
    {
        if (chw.Length != (long)count * ImageLength)
            throw new ArgumentException($"{chw.Length} values for {count} image(s) of 3×{Config.Vision.ImageSize}×{Config.Vision.ImageSize}");
        return _encoder.EncodeNormalized(chw, count);
    }

    /// <summary>Scores a batch of normalized features (from <see cref="Encode"/> or a feature cache) at once.</summary>
    public IReadOnlyList<ImageScore> Score(ImageFeatures batch) => _scorer.Score(batch);

    /// <summary>
    /// Loads and scores <paramref name="items"/> a batch at a time, in order. <paramref name="load"/> gives an item's
    /// preprocessed image and whatever else the caller keeps with it (mask, thumbnail). An unreadable image
    /// (ImageLoadException) goes to <paramref name="onUnreadable"/> and is left out, or, without that callback, ends
    /// the run. <paramref name="onBatchDone"/> sees each finished batch (progress).
    /// </summary>
    public List<(T Item, TLoaded Loaded, ImageScore Score)> ScoreAll<T, TLoaded>(IReadOnlyList<T> items,
        Func<T, (float[] Chw, TLoaded Loaded)> load, Action<T, Clip.Imaging.ImageLoadException>? onUnreadable = null,
        Action<IReadOnlyList<T>>? onBatchDone = null, CancellationToken cancellationToken = default) =>
        ScoreChunks(items, load, ScoreImages, onUnreadable, onBatchDone, cancellationToken);

    /// <summary>
    /// As <see cref="ScoreAll{T, TLoaded}(IReadOnlyList{T}, Func{T, ValueTuple{float[], TLoaded}}, Action{T, Clip.Imaging.ImageLoadException}?, Action{IReadOnlyList{T}}?, CancellationToken)"/>,
    /// with each item's features taken from <paramref name="cache"/> (<paramref name="load"/> gives its index there)
    /// instead of encoding its image: same batches, same scores.
    /// </summary>
    public List<(T Item, TLoaded Loaded, ImageScore Score)> ScoreAll<T, TLoaded>(FeatureCache cache, IReadOnlyList<T> items,
        Func<T, (int Index, TLoaded Loaded)> load, Action<T, Clip.Imaging.ImageLoadException>? onUnreadable = null,
        Action<IReadOnlyList<T>>? onBatchDone = null, CancellationToken cancellationToken = default) =>
        ScoreChunks(items, load, indices =>
        {
            using var f = cache.Load(_bank1.Backend, indices);
            return Score(f);
        }, onUnreadable, onBatchDone, cancellationToken);

    private List<(T Item, TLoaded Loaded, ImageScore Score)> ScoreChunks<T, TSource, TLoaded>(IReadOnlyList<T> items,
        Func<T, (TSource Source, TLoaded Loaded)> load, Func<IReadOnlyList<TSource>, IReadOnlyList<ImageScore>> score,
        Action<T, Clip.Imaging.ImageLoadException>? onUnreadable, Action<IReadOnlyList<T>>? onBatchDone, CancellationToken cancellationToken)
    {
        var results = new List<(T, TLoaded, ImageScore)>(items.Count);
        foreach (var chunk in items.Chunk(BatchSize))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var ok = new List<(T Item, TSource Source, TLoaded Loaded)>(chunk.Length);
            foreach (var item in chunk)
            {
                try
                {
                    var (source, loaded) = load(item);
                    ok.Add((item, source, loaded));
                }
                catch (Clip.Imaging.ImageLoadException e) when (onUnreadable is not null)
                {
                    onUnreadable(item, e);
                }
            }
            var scores = ok.Count == 0 ? [] : score([.. ok.Select(o => o.Source)]);
            for (int i = 0; i < ok.Count; i++) results.Add((ok[i].Item, ok[i].Loaded, scores[i]));
            onBatchDone?.Invoke(chunk);
        }
        return results;
    }

    /// <summary>Encodes and scores preprocessed images in chunks of <see cref="BatchSize"/>, in order.</summary>
    public IReadOnlyList<ImageScore> ScoreImages(IReadOnlyList<float[]> chw)
    {
        var results = new List<ImageScore>(chw.Count);
        for (int start = 0; start < chw.Count; start += BatchSize)
        {
            int n = Math.Min(BatchSize, chw.Count - start);
            var batch = new float[n * ImageLength];
            for (int i = 0; i < n; i++)
            {
                var img = chw[start + i];
                if (img.Length != ImageLength)
                    throw new ArgumentException($"image {start + i} has {img.Length} values, expected 3×{Config.Vision.ImageSize}×{Config.Vision.ImageSize}");
                img.CopyTo(batch, i * ImageLength);
            }
            using var f = Encode(batch, n);
            results.AddRange(Score(f));
        }
        return results;
    }

    private static Tensor Upload(IBackend be, MemoryBank bank)
    {
        var t = Tensor.FromArray(be, bank.Data, bank.Rows, bank.Width);
        TensorScope.Detach(t); // lives as long as the detector
        return t;
    }

    public void Dispose()
    {
        _scorer.Dispose();
        _bank1.Dispose();
        _bank2.Dispose();
    }
}
