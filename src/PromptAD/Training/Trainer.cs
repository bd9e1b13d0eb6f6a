using PromptAD.Clip;
using PromptAD.Model;
using PromptAD.Prompting;
using PromptAD.Scoring;
using PromptAD.Tensors;
using PromptAD.Tensors.Autograd;

namespace PromptAD.Training;

/// <summary>
/// Trains both prompt heads (SPEC §5) on k few-shot images and returns the model. The image features are computed
/// once; the image head learns on the global features, the pixel head on every local patch feature; one SGD step per
/// epoch over all shots, the learning rate cosine-annealed per epoch over <see cref="TrainOptions.Epochs"/>. The final
/// epoch is kept (no selection on test data). On the CPU backend the result is a deterministic function of the
/// inputs and <see cref="TrainOptions.Seed"/>.
/// </summary>
public static class Trainer
{
    /// <param name="init">Warm start: the learned vectors start from this model's (shapes must match the options).</param>
    public static PromptAdModel Train(ClipWeights weights, TrainingSet data, TrainOptions options, PromptAdModel? init = null,
        IProgress<TrainProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        options.Validate();
        if (data.Shots.Count == 0) throw new ArgumentException("no few-shot images", nameof(data));
        var chw = Concat(data.Shots, 3 * weights.Config.Vision.ImageSize * weights.Config.Vision.ImageSize);
        using var features = new ClipImageEncoder(weights).EncodeNormalized(chw, data.Shots.Count);
        return Train(weights, data, features, options, init, progress, cancellationToken);
    }

    /// <summary>
    /// Trains from the shots' normalized features, computed elsewhere (a feature cache that encodes each image once);
    /// <paramref name="data"/>'s images are not used. Same result as encoding the shots here.
    /// </summary>
    public static PromptAdModel Train(ClipWeights weights, TrainingSet data, ImageFeatures features, TrainOptions options,
        PromptAdModel? init = null, IProgress<TrainProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        options.Validate();
        if (!features.IsNormalized) throw new ArgumentException("training needs the shots' L2-normalized features", nameof(features));
        if (features.Batch == 0) throw new ArgumentException("no few-shot images", nameof(features));
        var config = weights.Config;
        int k = features.Batch, P = config.Vision.Patches;
        if (features.Patches != P) throw new ArgumentException($"shot features have {features.Patches} patches per image, the backbone {P}", nameof(features));
        if (init is not null) init.CheckCompatible(config);
        float scale = LogitScale(weights, options.LogitScale);

        // Initial vectors: seeded N(0, 0.02²) in a fixed order (image ctx, image ctx_ab, pixel ctx, pixel ctx_ab).
        int width = config.Text.Width;
        var rng = new Random(options.Seed);
        var imageInit = new HeadVectors(PromptLearner.InitialVectors(options.NProImage * options.NCtx * width, rng),
            PromptLearner.InitialVectors(options.NProAb * options.NCtxAb * width, rng), width);
        var pixelInit = new HeadVectors(PromptLearner.InitialVectors(options.NProPixel * options.NCtx * width, rng),
            PromptLearner.InitialVectors(options.NProAb * options.NCtxAb * width, rng), width);
        if (init is not null)
        {
            imageInit = Checked(init.Image, imageInit, "image");
            pixelInit = Checked(init.Pixel, pixelInit, "pixel");
        }

        var image = TrainHead(weights, data, options, PromptHead.Image, options.NProImage, imageInit, features.Global, scale, progress, cancellationToken);
        var pixel = TrainHead(weights, data, options, PromptHead.Pixel, options.NProPixel, pixelInit, features.Local, scale, progress, cancellationToken);

        var metadata = new ModelMetadata
        {
            Backbone = config.Name,
            WeightsSha256 = data.WeightsSha256,
            Category = data.Category,
            ClassName = data.ClassName,
            Shots = k,
            ShotFiles = [.. data.ShotFiles],
            Options = options,
            LogitScaleValue = scale,
            CreatedUtc = DateTimeOffset.UtcNow,
        };
        return new PromptAdModel(metadata, image.Vectors, pixel.Vectors, image.Prototypes, pixel.Prototypes,
            new MemoryBank(features.Mid1.ToArray(), k * P, config.Vision.Width),
            new MemoryBank(features.Mid2.ToArray(), k * P, config.Vision.Width));
    }

    /// <summary>The temperature s of SPEC §5.5 from the checkpoint's stored logit_scale.</summary>
    public static float LogitScale(ClipWeights weights, LogitScaleMode mode)
    {
        float raw = weights["logit_scale"].Item();
        return mode == LogitScaleMode.Exp ? MathF.Exp(raw) : raw;
    }

    private static (HeadVectors Vectors, Prototypes Prototypes) TrainHead(ClipWeights weights, TrainingSet data, TrainOptions o,
        PromptHead head, int nPro, HeadVectors start, Tensor v, float scale, IProgress<TrainProgress>? progress, CancellationToken ct)
    {
        var prompts = PromptSet.Create(weights.Config, data.ClassName, data.States, nPro, o.NCtx, o.NProAb, o.NCtxAb);
        using var learner = new PromptLearner(weights, prompts, start.Ctx, start.CtxAb);
        using var sgd = new SgdOptimizer([learner.Ctx, learner.CtxAb], o.Momentum, o.WeightDecay);
        for (int epoch = 0; epoch < o.Epochs; epoch++)
        {
            ct.ThrowIfCancellationRequested();
            float lr = CosineAnnealing.LearningRate(o.LearningRate, o.MinLearningRate, epoch, o.Epochs);
            float total, ce, eam, align;
            using (TensorScope.Open())
            {
                var f = learner.Encode();
                var terms = PromptLosses.Compute(v, f.Normal, f.Manual, f.Learned, scale, o.Margin, o.AlignWeight);
                total = terms.Total.Item(); ce = terms.Contrastive.Item(); eam = terms.Margin.Item(); align = terms.Alignment.Item();
                sgd.ZeroGrad();
                Backprop.Backward(terms.Total);
            }
            sgd.Step(lr);
            sgd.ZeroGrad();
            progress?.Report(new TrainProgress(head, epoch + 1, o.Epochs, total, ce, eam, align, lr));
        }
        var vectors = new HeadVectors(learner.Ctx.ToArray(), learner.CtxAb.ToArray(), weights.Config.Text.Width);
        return (vectors, learner.Prototypes());
    }

    private static HeadVectors Checked(HeadVectors from, HeadVectors expected, string head)
    {
        if (from.Ctx.Length != expected.Ctx.Length || from.CtxAb.Length != expected.CtxAb.Length || from.Width != expected.Width)
            throw new ArgumentException($"--init model's {head} vectors (ctx {from.Ctx.Length / from.Width}×{from.Width}, ctx_ab " +
                $"{from.CtxAb.Length / from.Width}×{from.Width}) do not match these options (ctx {expected.Ctx.Length / expected.Width}, " +
                $"ctx_ab {expected.CtxAb.Length / expected.Width} rows of {expected.Width})");
        return new HeadVectors((float[])from.Ctx.Clone(), (float[])from.CtxAb.Clone(), from.Width);
    }

    private static float[] Concat(IReadOnlyList<float[]> images, int length)
    {
        var all = new float[images.Count * length];
        for (int i = 0; i < images.Count; i++)
        {
            if (images[i].Length != length)
                throw new ArgumentException($"few-shot image {i} has {images[i].Length} values, expected 3×size×size = {length}");
            images[i].CopyTo(all, i * length);
        }
        return all;
    }
}
