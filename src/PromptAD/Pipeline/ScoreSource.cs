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
/// scores them in one call, yields them with their decoded photos (for heatmaps) and goes on to the next chunk. The next
/// chunk is decoded on worker threads while this one is encoded and scored (and while the caller uses it), so decoding
/// hides in the encoder's single-threaded stretches instead of adding to them; at most two chunks are held at once.
/// </summary>
public sealed class DecodedImageSource(Detector detector) : IScoreSource
{
    public Detector Detector { get; } = detector;

    /// <summary>A decoded chunk: the readable images in order, and those that could not be read.</summary>
    private sealed record DecodedChunk(List<(TestSample Sample, RgbImage Image, float[] Chw)> Loaded, List<(TestSample Sample, ImageLoadException Error)> Unreadable);

    public IEnumerable<IReadOnlyList<ScoredImage>> Score(IReadOnlyList<TestSample> samples, Action<TestSample, ImageLoadException>? onUnreadable,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(samples);
        var chunks = samples.Chunk(Detector.BatchSize).ToArray();
        bool tolerate = onUnreadable is not null;
        Task<DecodedChunk>? next = chunks.Length > 0 ? Task.Run(() => Decode(chunks[0], tolerate, cancellationToken)) : null;
        try
        {
            for (int c = 0; c < chunks.Length; c++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var decoded = next!.GetAwaiter().GetResult(); // an unreadable image without onUnreadable throws here, in order
                int following = c + 1;
                next = following < chunks.Length ? Task.Run(() => Decode(chunks[following], tolerate, cancellationToken)) : null;
                // The callback runs on the caller's thread, in the samples' order, as if decoding were inline.
                foreach (var (sample, error) in decoded.Unreadable) onUnreadable!(sample, error);
                var loaded = decoded.Loaded;
                var scores = loaded.Count == 0 ? [] : Detector.ScoreImages([.. loaded.Select(l => l.Chw)]);
                yield return [.. loaded.Select((l, i) => new ScoredImage(l.Sample, scores[i], l.Image))];
            }
        }
        finally
        {
            // Stopped early (an error, cancellation, or the caller stopped reading): let the prefetch finish quietly.
            try { next?.Wait(CancellationToken.None); } catch (AggregateException) { }
        }
    }

    private DecodedChunk Decode(TestSample[] chunk, bool tolerate, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var decoded = Detector.Images.Decode([.. chunk.Select(s => s.ImagePath)], cancellationToken);
        var result = new DecodedChunk(new(chunk.Length), []);
        for (int i = 0; i < chunk.Length; i++)
        {
            if (decoded[i].Error is { } e)
            {
                if (!tolerate) throw e;
                result.Unreadable.Add((chunk[i], e));
            }
            else result.Loaded.Add((chunk[i], decoded[i].Image!, decoded[i].Chw!));
        }
        return result;
    }
}
