using System.Collections.Concurrent;

namespace PromptAD.Scoring;

/// <summary>
/// Pixel maps the scorer hands out and a consumer that is done with them hands back (the evaluation loop, once a map is
/// in the metrics and the heatmaps), so that the next batch's maps reuse them. A 400×400 map is 640 KB: fresh ones are
/// large-object allocations, zero pages the kernel faults in one by one, and every few batches a full collection.
/// A map nobody hands back is simply collected.
/// </summary>
internal static class PixelMapPool
{
    /// <summary>Two scoring batches' maps, per map length.</summary>
    private const int MaxIdle = 32;

    private static readonly ConcurrentDictionary<int, ConcurrentBag<float[]>> s_idle = new();

    /// <summary>A map of exactly <paramref name="length"/> values, its contents undefined.</summary>
    public static float[] Rent(int length)
    {
        if (s_idle.TryGetValue(length, out var idle) && idle.TryTake(out var map)) return map;
        // Pinned: kept maps are not copied around by the large-object compaction after each evaluation.
        return GC.AllocateUninitializedArray<float>(length, pinned: true);
    }

    /// <summary>Takes back a map from <see cref="Rent"/> that no one reads or writes any more.</summary>
    public static void Return(float[] map)
    {
        var idle = s_idle.GetOrAdd(map.Length, _ => []);
        if (idle.Count < MaxIdle) idle.Add(map);
    }
}
