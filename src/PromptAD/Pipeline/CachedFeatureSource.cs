using System.Diagnostics;
using PromptAD.Clip.Imaging;
using PromptAD.Data;
using PromptAD.Evaluation;

namespace PromptAD.Pipeline;

/// <summary>
/// Scores test images from a <see cref="FeatureCache"/> instead of decoding and encoding them: chunks of
/// <see cref="Detector.BatchSize"/> samples, each chunk's cached features scored in one <see cref="Detector.Score"/>
/// call (the same batches as <see cref="DecodedImageSource"/>, so the same scores). Photos are not decoded
/// (<see cref="ScoredImage.Image"/> is null); check the masks' sizes once per cache with <see cref="CheckMasks"/>.
/// </summary>
public sealed class CachedFeatureSource(Detector detector, FeatureCache cache) : IScoreSource
{
    public Detector Detector { get; } = detector.Model.Metadata.Options.MidFeatures == cache.MidFeatures ? detector
        : throw new ArgumentException($"the model was trained with {detector.Model.Metadata.Options.MidFeatures} mid-level features, " +
            $"the feature cache holds {cache.MidFeatures} ones");

    /// <summary>Seconds spent loading cached features and scoring them (the run's score stage).</summary>
    public double ScoreSeconds { get; private set; }

    public IEnumerable<IReadOnlyList<ScoredImage>> Score(IReadOnlyList<TestSample> samples, Action<TestSample, ImageLoadException>? onUnreadable,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(samples);
        foreach (var chunk in samples.Chunk(Detector.BatchSize))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var ok = new List<(TestSample Sample, int Index)>(chunk.Length);
            foreach (var sample in chunk)
            {
                int index = cache.IndexOf(sample.ImagePath);
                if (index < 0) throw new ArgumentException($"test image '{sample.ImagePath}' is not in the feature cache");
                if (cache.ErrorOf(index) is { } e)
                {
                    if (onUnreadable is null) throw e;
                    onUnreadable(sample, e);
                    continue;
                }
                ok.Add((sample, index));
            }
            var clock = Stopwatch.StartNew();
            IReadOnlyList<Scoring.ImageScore> scores = [];
            if (ok.Count > 0)
            {
                using var features = cache.Load(Detector.Backend, [.. ok.Select(o => o.Index)]);
                scores = Detector.Score(features);
            }
            ScoreSeconds += clock.Elapsed.TotalSeconds;
            yield return [.. ok.Select((o, i) => new ScoredImage(o.Sample, scores[i], null))];
        }
    }

    /// <summary>
    /// A mask whose size differs from its image's would silently score against the wrong pixels: checked once per
    /// cache against the decoded sizes it recorded (unreadable images and masks are left to the evaluation loop). The
    /// masks stay prepared in <paramref name="masks"/> for every evaluation of the cached test set.
    /// </summary>
    public static void CheckMasks(FeatureCache cache, MaskCache masks, IEnumerable<TestSample> samples)
    {
        foreach (var s in samples)
        {
            int index = cache.IndexOf(s.ImagePath);
            if (s.MaskPath is not { } maskPath || index < 0 || cache.ErrorOf(index) is not null) continue;
            ScoredMask mask;
            try { mask = masks.Get(maskPath); }
            catch (ImageLoadException) { continue; }
            var (w, h) = cache.SizeOf(index);
            if (mask.SourceWidth != w || mask.SourceHeight != h)
                throw new DatasetException($"Mask '{maskPath}' is {mask.SourceWidth}×{mask.SourceHeight} but its image '{s.ImagePath}' is {w}×{h}.");
        }
    }
}
