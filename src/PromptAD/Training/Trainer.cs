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
        IProgress<TrainProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Train(weights, data, options, init, progress, null, cancellationToken);

    /// <param name="stepQueued">Called after each step is queued (the device profiler counts the work in between).</param>
    internal static PromptAdModel Train(ClipWeights weights, TrainingSet data, TrainOptions options, PromptAdModel? init,
        IProgress<TrainProgress>? progress, Action<TrainStep>? stepQueued, CancellationToken cancellationToken)
    {
        options.Validate();
        if (data.Shots.Count == 0) throw new ArgumentException("no few-shot images", nameof(data));
        using var features = new ImageBatchEncoder(weights, options.MidFeatures).Encode(data.Shots);
        return TrainRuns(weights, [new TrainingRun(data, features, options)], [init], [progress], cancellationToken, stepQueued)[0];
    }

    /// <summary>
    /// Trains from the shots' normalized features, computed elsewhere (a feature cache that encodes each image once);
    /// <paramref name="data"/>'s images are not used. Same result as encoding the shots here.
    /// </summary>
    public static PromptAdModel Train(ClipWeights weights, TrainingSet data, ImageFeatures features, TrainOptions options,
        PromptAdModel? init = null, IProgress<TrainProgress>? progress = null, CancellationToken cancellationToken = default) =>
        TrainRuns(weights, [new TrainingRun(data, features, options)], [init], [progress], cancellationToken)[0];

    /// <summary>
    /// Trains several runs of one category together (the protocol's seeds and shot counts): their prompts share one
    /// structure, so each head's prompts of every run go through the text encoder as one batch per epoch, while each
    /// run keeps its own learned vectors, shots, losses, gradients and SGD state. The text encoder works row by row
    /// (and sequence by sequence in attention), so every run gets exactly the model it gets trained alone. The runs
    /// must agree on everything but the seed (same category, prompts and hyper-parameters).
    /// </summary>
    public static IReadOnlyList<PromptAdModel> TrainTogether(ClipWeights weights, IReadOnlyList<TrainingRun> runs,
        IReadOnlyList<IProgress<TrainProgress>?>? progress = null, CancellationToken cancellationToken = default)
    {
        if (runs.Count == 0) return [];
        var first = runs[0];
        foreach (var r in runs)
        {
            if (r.Options with { Seed = 0 } != first.Options with { Seed = 0 } || r.Data.ClassName != first.Data.ClassName
                || !r.Data.States.SequenceEqual(first.Data.States))
                throw new ArgumentException("runs trained together must share the category's prompts and every option but the seed", nameof(runs));
        }
        if (progress is not null && progress.Count != runs.Count) throw new ArgumentException($"{progress.Count} progress sinks for {runs.Count} runs", nameof(progress));
        return TrainRuns(weights, runs, new PromptAdModel?[runs.Count], progress ?? new IProgress<TrainProgress>?[runs.Count], cancellationToken);
    }

    private static PromptAdModel[] TrainRuns(ClipWeights weights, IReadOnlyList<TrainingRun> runs, IReadOnlyList<PromptAdModel?> inits,
        IReadOnlyList<IProgress<TrainProgress>?> progress, CancellationToken cancellationToken, Action<TrainStep>? stepQueued = null)
    {
        var config = weights.Config;
        int P = config.Vision.Patches, width = config.Text.Width;
        var imageInit = new HeadVectors[runs.Count];
        var pixelInit = new HeadVectors[runs.Count];
        for (int r = 0; r < runs.Count; r++)
        {
            var (data, features, options) = runs[r];
            options.Validate();
            if (!features.IsNormalized) throw new ArgumentException("training needs the shots' L2-normalized features", nameof(runs));
            if (features.Batch == 0) throw new ArgumentException("no few-shot images", nameof(runs));
            if (features.Patches != P) throw new ArgumentException($"shot features have {features.Patches} patches per image, the backbone {P}", nameof(runs));
            var init = inits[r];
            if (init is not null) init.CheckCompatible(config);

            // Initial vectors: seeded N(0, 0.02²) in a fixed order (image ctx, image ctx_ab, pixel ctx, pixel ctx_ab).
            var rng = new Random(options.Seed);
            imageInit[r] = new HeadVectors(PromptLearner.InitialVectors(options.NProImage * options.NCtx * width, rng),
                PromptLearner.InitialVectors(options.NProAb * options.NCtxAb * width, rng), width);
            pixelInit[r] = new HeadVectors(PromptLearner.InitialVectors(options.NProPixel * options.NCtx * width, rng),
                PromptLearner.InitialVectors(options.NProAb * options.NCtxAb * width, rng), width);
            if (init is not null)
            {
                imageInit[r] = Checked(init.Image, imageInit[r], "image");
                pixelInit[r] = Checked(init.Pixel, pixelInit[r], "pixel");
            }
        }

        var o = runs[0].Options;
        float scale = LogitScale(weights, o.LogitScale);
        var image = TrainHeads(weights, runs[0].Data, o, PromptHead.Image, o.NProImage, imageInit, [.. runs.Select(r => r.Shots.Global)], scale, progress, stepQueued, cancellationToken);
        var pixel = TrainHeads(weights, runs[0].Data, o, PromptHead.Pixel, o.NProPixel, pixelInit, [.. runs.Select(r => r.Shots.Local)], scale, progress, stepQueued, cancellationToken);

        var models = new PromptAdModel[runs.Count];
        for (int r = 0; r < runs.Count; r++)
        {
            var (data, features, options) = runs[r];
            int k = features.Batch;
            var metadata = new ModelMetadata
            {
                Backbone = config.Name,
                WeightsSha256 = data.WeightsSha256,
                Category = data.Category,
                ClassName = data.ClassName,
                AnomalyStates = [.. data.States],
                Shots = k,
                ShotFiles = [.. data.ShotFiles],
                ShotSha256 = [.. data.ShotSha256 ?? []],
                Options = options,
                LogitScaleValue = scale,
                CreatedUtc = DateTimeOffset.UtcNow,
            };
            models[r] = new PromptAdModel(metadata, image[r].Vectors, pixel[r].Vectors, image[r].Prototypes, pixel[r].Prototypes,
                new MemoryBank(features.Mid1.ToArray(), k * P, config.Vision.Width),
                new MemoryBank(features.Mid2.ToArray(), k * P, config.Vision.Width));
        }
        return models;
    }

    /// <summary>The temperature s of SPEC §5.5 from the checkpoint's stored logit_scale.</summary>
    public static float LogitScale(ClipWeights weights, LogitScaleMode mode)
    {
        float raw = weights["logit_scale"].Item();
        return mode == LogitScaleMode.Exp ? MathF.Exp(raw) : raw;
    }

    /// <summary>Plain steps before the step is captured: the first creates the momentum buffers, the second is the
    /// steady step run once with every buffer and index already on the device, so its freed blocks fill the memory
    /// pool that the capture draws from.</summary>
    internal const int PlainSteps = 2;

    /// <summary>One head of every run: all runs' prompts encoded as one batch per epoch, one backward pass over the
    /// sum of the runs' losses (each run's vectors get exactly their own loss's gradient), one SGD step per run.
    /// After <see cref="PlainSteps"/> plain steps the step is captured once (<see cref="IBackend.CaptureStep"/>: a
    /// device graph on CUDA) and replayed for every remaining epoch; it reads its learning rate and writes its losses
    /// at a step index kept on the backend (<see cref="TrainingClock"/>), so every replay is the same work.</summary>
    private static (HeadVectors Vectors, Prototypes Prototypes)[] TrainHeads(ClipWeights weights, TrainingSet data, TrainOptions o,
        PromptHead head, int nPro, IReadOnlyList<HeadVectors> starts, IReadOnlyList<Tensor> v, float scale,
        IReadOnlyList<IProgress<TrainProgress>?> progress, Action<TrainStep>? stepQueued, CancellationToken ct)
    {
        var prompts = PromptSet.Create(weights.Config, data.ClassName, data.States, nPro, o.NCtx, o.NProAb, o.NCtxAb);
        var backend = v[0].Backend;
        var learners = new List<PromptLearner>(starts.Count);
        using var clock = TrainingClock.Cosine(backend, o.LearningRate, o.MinLearningRate, o.Epochs);
        var losses = progress.Select(p => new LossReadback(backend, head, clock, p)).ToList();
        var sgds = new List<SgdOptimizer>(starts.Count);
        ICapturedStep? captured = null;
        // The pixel head's margin as published sums over each shot's patches (SPEC §5.3).
        var patchSummed = head == PromptHead.Pixel && o.PixelMargin == PixelMarginMode.AsPublished
            ? v.Select(f => new PatchSummedMargin(f, weights.Config.Vision.Patches)).ToArray() : null;
        try
        {
            foreach (var start in starts)
            {
                var learner = new PromptLearner(weights, prompts, start.Ctx, start.CtxAb);
                learners.Add(learner);
                sgds.Add(new SgdOptimizer([learner.Ctx, learner.CtxAb], o.Momentum, o.WeightDecay));
            }

            void Step()
            {
                using (TensorScope.Open())
                {
                    var features = PromptLearner.EncodeTogether(learners);
                    Tensor? sum = null;
                    for (int r = 0; r < learners.Count; r++)
                    {
                        var f = features[r];
                        var terms = PromptLosses.Compute(v[r], f.Normal, f.Manual, f.Learned, scale, o.Margin, o.AlignWeight, patchSummed?[r]);
                        losses[r].Record(terms);
                        sum = sum is null ? terms.Total : Ops.Add(sum, terms.Total);
                    }
                    foreach (var sgd in sgds) sgd.ZeroGrad();
                    Backprop.Backward(sum!);
                }
                foreach (var sgd in sgds)
                {
                    sgd.Step(clock);
                    sgd.ZeroGrad();
                }
                clock.Advance();
            }

            for (int epoch = 0; epoch < o.Epochs; epoch++)
            {
                ct.ThrowIfCancellationRequested();
                if (epoch < PlainSteps) Step();
                else
                {
                    captured ??= backend.CaptureStep(Step);
                    captured.Replay();
                }
                stepQueued?.Invoke(new TrainStep(head, epoch + 1, captured));
                foreach (var l in losses) l.AfterStep(epoch + 1);
            }
            captured?.Dispose(); // before the tensors it reads and writes go back to the pool
            captured = null;
            return [.. learners.Select(l => (new HeadVectors(l.Ctx.ToArray(), l.CtxAb.ToArray(), weights.Config.Text.Width), l.Prototypes()))];
        }
        finally
        {
            captured?.Dispose();
            foreach (var l in losses) l.Dispose();
            foreach (var sgd in sgds) sgd.Dispose();
            foreach (var learner in learners) learner.Dispose();
            foreach (var m in patchSummed ?? []) m.Dispose();
        }
    }

    private static HeadVectors Checked(HeadVectors from, HeadVectors expected, string head)
    {
        if (from.Ctx.Length != expected.Ctx.Length || from.CtxAb.Length != expected.CtxAb.Length || from.Width != expected.Width)
            throw new InitModelMismatchException($"the initial model's {head} vectors (ctx {from.Ctx.Length / from.Width}×{from.Width}, ctx_ab " +
                $"{from.CtxAb.Length / from.Width}×{from.Width}) do not match these options (ctx {expected.Ctx.Length / expected.Width}, " +
                $"ctx_ab {expected.CtxAb.Length / expected.Width} rows of {expected.Width})");
        return new HeadVectors((float[])from.Ctx.Clone(), (float[])from.CtxAb.Clone(), from.Width);
    }

}
