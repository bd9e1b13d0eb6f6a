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
        _encoder = new ClipImageEncoder(weights, model.Metadata.Options.MidFeatures); // as the banks were made
        _bank1 = Upload(weights.Backend, model.Mid1);
        _bank2 = Upload(weights.Backend, model.Mid2);
        _scorer = new AnomalyScorer(model.ImagePrototypes, model.PixelPrototypes, _bank1, _bank2,
            model.Metadata.LogitScaleValue, Config.Vision.Grid, outputSize);
    }

    public ClipConfig Config { get; }
    public PromptAdModel Model { get; }
    public int BatchSize { get; }
    public int OutputSize => _scorer.OutputSize;

    /// <summary>The backend the detector's banks and scoring live on (the weights').</summary>
    public IBackend Backend => _bank1.Backend;

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
