using System.Collections.Concurrent;
using PromptAD.Data;

namespace PromptAD.Evaluation;

/// <summary>
/// A ground-truth mask as the pixel metrics use it: binarized, resized (nearest) to the map size, its defect regions
/// labelled (AUPRO's per-region overlap), and the size it had on disk (checked against its image).
/// </summary>
public sealed record ScoredMask(BinaryMask Mask, int[]? Labels, int Regions, int SourceWidth, int SourceHeight)
{
    /// <summary>Pixels per region: [l] for label l = 1…Regions ([0] the normal pixels). Counted once, however many
    /// evaluations the mask serves.</summary>
    public long[] Areas { get; } = CountAreas(Labels, Regions, Mask.Pixels.Length);

    private static long[] CountAreas(int[]? labels, int regions, int pixels)
    {
        var areas = new long[regions + 1];
        if (labels is null)
        {
            areas[0] = pixels;
            return areas;
        }
        foreach (int l in labels) areas[l]++;
        return areas;
    }

    public static ScoredMask Load(string path, int size)
    {
        var source = MaskLoader.Load(path);
        return Of(source.ResizeNearest(size, size), source.Width, source.Height);
    }

    /// <summary>A mask already at the map size, its regions labelled here.</summary>
    public static ScoredMask Of(BinaryMask mask, int sourceWidth, int sourceHeight)
    {
        var (labels, regions) = mask.Any() ? ConnectedComponents.Label(mask) : (null, 0);
        return new ScoredMask(mask, labels, regions, sourceWidth, sourceHeight);
    }
}

/// <summary>
/// Masks decoded, resized and labelled once per path and map size, however many models are scored against them
/// (`run` scores every (k, seed) run of a category on the same test set). Unreadable masks are not kept: each use
/// meets their error again.
/// </summary>
public sealed class MaskCache(int size)
{
    private readonly ConcurrentDictionary<string, ScoredMask> _masks = new(StringComparer.Ordinal);

    public int Size { get; } = size;

    public ScoredMask Get(string path) => _masks.TryGetValue(path, out var m) ? m : _masks.GetOrAdd(path, ScoredMask.Load(path, Size));
}
