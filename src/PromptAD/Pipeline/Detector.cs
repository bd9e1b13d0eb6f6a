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
        Images = new ImageBatchEncoder(weights, model.Metadata.Options.MidFeatures); // as the banks were made
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

    /// <summary>The images' way to features (decode, preprocess, encode) with the model's mid-level features.</summary>
    public ImageBatchEncoder Images { get; }

    /// <summary>Scores a batch of normalized features (from <see cref="Encode"/> or a feature cache) at once.</summary>
    public IReadOnlyList<ImageScore> Score(ImageFeatures batch) => _scorer.Score(batch);

    /// <summary>Encodes and scores preprocessed images in chunks of <see cref="BatchSize"/>, in order.</summary>
    public IReadOnlyList<ImageScore> ScoreImages(IReadOnlyList<float[]> chw)
    {
        var results = new List<ImageScore>(chw.Count);
        foreach (var chunk in chw.Chunk(BatchSize))
        {
            using var f = Images.Encode(chunk);
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
