using PromptAD.Clip.Imaging;
using PromptAD.Data;
using PromptAD.Scoring;

namespace PromptAD.Pipeline;

/// <summary>One scored test image as a score source yields it.</summary>
/// <param name="Image">The decoded photo when the source has it (heatmaps, the mask-size check); null when the source
/// scores from something else (cached features) — the loop then loads the photo itself if it needs it.</param>
public sealed record ScoredImage(TestSample Sample, ImageScore Score, RgbImage? Image);

/// <summary>
/// Where the evaluation loop gets its scores: a chunk of scored images at a time, in the samples' order, so that each
/// chunk can be used and dropped (memory flat in the number of test images).
/// </summary>
public interface IScoreSource
{
    /// <summary>The detector the scores come from (its model, backbone and map size).</summary>
    Detector Detector { get; }

    /// <summary>
    /// Scores <paramref name="samples"/> in order, one chunk at a time. An image that cannot be read goes to
    /// <paramref name="onUnreadable"/> and is left out, or, without that callback, ends the run.
    /// </summary>
    IEnumerable<IReadOnlyList<ScoredImage>> Score(IReadOnlyList<TestSample> samples, Action<TestSample, ImageLoadException>? onUnreadable,
        CancellationToken cancellationToken);
}

/// <summary>
/// Scores image files: decodes and preprocesses a chunk of <see cref="Detector.BatchSize"/> images (in parallel),
/// scores them in one call, yields them with their decoded photos (for heatmaps) and goes on to the next chunk.
/// </summary>
public sealed class DecodedImageSource(Detector detector) : IScoreSource
{
    public Detector Detector { get; } = detector;

    public IEnumerable<IReadOnlyList<ScoredImage>> Score(IReadOnlyList<TestSample> samples, Action<TestSample, ImageLoadException>? onUnreadable,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(samples);
        foreach (var chunk in samples.Chunk(Detector.BatchSize))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var decoded = Detector.Images.Decode([.. chunk.Select(s => s.ImagePath)], cancellationToken);
            var loaded = new List<(TestSample Sample, RgbImage Image, float[] Chw)>(chunk.Length);
            for (int i = 0; i < chunk.Length; i++)
            {
                if (decoded[i].Error is { } e)
                {
                    if (onUnreadable is null) throw e;
                    onUnreadable(chunk[i], e);
                }
                else loaded.Add((chunk[i], decoded[i].Image!, decoded[i].Chw!));
            }

            var scores = loaded.Count == 0 ? [] : Detector.ScoreImages([.. loaded.Select(l => l.Chw)]);
            yield return [.. loaded.Select((l, i) => new ScoredImage(l.Sample, scores[i], l.Image))];
        }
    }
}
