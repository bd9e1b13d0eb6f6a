using PromptAD.Clip;
using PromptAD.Model;
using PromptAD.Pipeline;
using PromptAD.Training;

namespace PromptAD.Calibration;

/// <summary>The k left-out scores, and how many shot images were encoded to get them (k: each once).</summary>
public sealed record LeaveOneOutScores(IReadOnlyList<float> Scores, long ImagesEncoded);

/// <summary>
/// Good-part scores when no good image beyond the shots exists: for each of the k shots, a model is trained on the
/// other k − 1 with the model's own options (seed included) and scores the left-out shot. The k shots are encoded once;
/// every fold trains and scores from their features (training never changes them). Each such model has one shot
/// fewer than the deployed one, so its scores of good parts run, if anything, higher: the threshold errs towards
/// fewer false alarms. k scores can promise a rate no lower than 1/(k + 1).
/// </summary>
public static class LeaveOneOut
{
    /// <param name="shots">The model's shots, preprocessed (ClipPreprocessor), in the model's order.</param>
    /// <param name="states">The anomaly states the model was trained with (same prompts.json).</param>
    /// <param name="onFold">Called after each left-out shot is scored (progress).</param>
    public static LeaveOneOutScores Scores(ClipWeights weights, PromptAdModel model, IReadOnlyList<float[]> shots,
        IReadOnlyList<string> states, int outputSize, Action<int>? onFold = null, CancellationToken cancellationToken = default)
    {
        var meta = model.Metadata;
        if (shots.Count != meta.Shots)
            throw new ArgumentException($"the model was trained on {meta.Shots} shot(s), {shots.Count} given");
        if (shots.Count < 2)
            throw new ArgumentException($"leave-one-out needs a model of at least 2 shots (this one has {shots.Count}); with fewer, calibrate on held-out good images");
        var images = new ImageBatchEncoder(weights, meta.Options.MidFeatures);
        using var all = images.Encode(shots);
        var scores = new List<float>(shots.Count);
        for (int leftOut = 0; leftOut < shots.Count; leftOut++)
        {
            var others = Enumerable.Range(0, shots.Count).Where(i => i != leftOut).ToList();
            var set = new TrainingSet(meta.Category, meta.ClassName, states, [.. others.Select(i => shots[i])],
                [.. others.Select(i => i < meta.ShotFiles.Count ? meta.ShotFiles[i] : $"shot {i}")], meta.WeightsSha256);
            using var trainOn = all.Select(others);
            using var fold = Trainer.Train(weights, set, trainOn, meta.Options, cancellationToken: cancellationToken);
            using var detector = new Detector(weights, fold, outputSize, batchSize: 1);
            using var score = all.Select([leftOut]);
            scores.Add(detector.Score(score)[0].Score);
            onFold?.Invoke(leftOut + 1);
        }
        return new LeaveOneOutScores(scores, images.ImagesEncoded);
    }
}
