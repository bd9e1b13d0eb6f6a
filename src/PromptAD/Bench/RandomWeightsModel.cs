using System.Diagnostics;
using PromptAD.Clip;
using PromptAD.Data;
using PromptAD.Model;
using PromptAD.Tensors;
using PromptAD.Training;

namespace PromptAD.Bench;

/// <summary>
/// The few normal images a <see cref="RandomWeightsModel"/> learns from, and their prompts: shots of a category folder,
/// one encoded picture, or random pixels. <see cref="Images"/> turns them into preprocessed images through the
/// weights' one image path, since the preprocessing depends on the backbone.
/// </summary>
internal sealed record BenchShots(string Category, string ClassName, IReadOnlyList<string> States, IReadOnlyList<string> Names,
    Func<ImageBatchEncoder, IReadOnlyList<float[]>> Images)
{
    /// <summary>One shot of the category folder (<paramref name="name"/> in train/good, or the seeded choice), with
    /// the default prompts' class words and states.</summary>
    public static BenchShots OneOf(AnomalyDataset dataset, string? name)
    {
        var prompts = Jobs.PromptSource.Resolve(null);
        var (files, _) = Jobs.ShotChoice.Select(dataset, 1, 0, null, name is null ? null : [name]);
        return new(dataset.Category, prompts.ClassName(dataset.Category), prompts.StatesFor(dataset.Category), files, images => images.DecodeAll(files));
    }

    /// <summary>One picture given as an encoded file's bytes (PNG, JPEG…).</summary>
    public static BenchShots Encoded(string category, IReadOnlyList<string> states, byte[] image) =>
        new(category, category, states, ["bench.png"], images =>
        {
            using var stream = new MemoryStream(image);
            return [images.Preprocessor.Preprocess(Clip.Imaging.ImageLoader.Load(stream, "bench image"))];
        });

    /// <summary><paramref name="count"/> images of uniform random values in [−1, 1) (only the work they cause means anything).</summary>
    public static BenchShots Random(string category, IReadOnlyList<string> states, int count, Random rng) =>
        new(category, category, states, [.. Enumerable.Range(0, count).Select(i => $"shot{i}")],
            images => [.. Enumerable.Range(0, count).Select(_ => RandomImage(images.ImageLength, rng))]);

    /// <summary>Values uniform in [−1, 1): a preprocessed image's range.</summary>
    public static float[] RandomImage(int length, Random rng)
    {
        var chw = new float[length];
        for (int i = 0; i < chw.Length; i++) chw[i] = (float)(rng.NextDouble() * 2 - 1);
        return chw;
    }

}

/// <summary>
/// Random CLIP weights and a PromptAD model trained on them from <see cref="BenchShots"/>: the set-up the end-to-end,
/// precision and serve benchmarks and the device profiler share. The scores mean nothing; the work per image is the
/// real one. Disposes the model and the weights (not the backend, which the caller owns).
/// </summary>
internal sealed class RandomWeightsModel : IDisposable
{
    private RandomWeightsModel(ClipWeights weights, PromptAdModel model, ImageBatchEncoder images, double imageHeadSeconds, double trainSeconds)
    {
        Weights = weights;
        Model = model;
        Images = images;
        ImageHeadSeconds = imageHeadSeconds;
        TrainSeconds = trainSeconds;
    }

    public ClipWeights Weights { get; }
    public PromptAdModel Model { get; }

    /// <summary>The weights' image path (decode → preprocess → encode), for the images a benchmark scores.</summary>
    public ImageBatchEncoder Images { get; }

    /// <summary>Seconds from the start of training (shot encoding included) to the image head's last epoch.</summary>
    public double ImageHeadSeconds { get; }

    /// <summary>Seconds of the whole training, both heads, the device synchronized at the end.</summary>
    public double TrainSeconds { get; }

    /// <param name="stepQueued">Called after each training step is queued (the device profiler counts the work in between).</param>
    public static RandomWeightsModel Train(IBackend backend, ClipConfig config, BenchShots shots, TrainOptions options, int seed = 0,
        Action<TrainStep>? stepQueued = null, CancellationToken cancellationToken = default)
    {
        var weights = ClipWeights.Random(config, backend, seed);
        try
        {
            var images = new ImageBatchEncoder(weights, options.MidFeatures);
            var set = new TrainingSet(shots.Category, shots.ClassName, shots.States, shots.Images(images), shots.Names);
            var clock = Stopwatch.StartNew();
            double imageEnd = 0;
            // Progress is listened to, so the steps read their losses back as in a real run.
            var progress = new Terminal.SyncProgress<TrainProgress>(p => { if (p.Head == PromptHead.Image && p.Epoch == p.Epochs) imageEnd = clock.Elapsed.TotalSeconds; });
            var model = Trainer.Train(weights, set, options, null, progress, stepQueued, cancellationToken);
            backend.Synchronize();
            return new RandomWeightsModel(weights, model, images, imageEnd, clock.Elapsed.TotalSeconds);
        }
        catch
        {
            weights.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Model.Dispose();
        Weights.Dispose();
    }
}
