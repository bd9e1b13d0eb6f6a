using PromptAD.Evaluation;

namespace PromptAD.Tests.Evaluation;

/// <summary>
/// The per-bucket sort of the pixel metrics: each segment of keys sharing their top 16 bits, sorted on the low 16 bits,
/// is exactly LINQ's stable OrderBy of that segment (keys and payload), for segments sorted by insertion, by two
/// counting passes and by one (a byte every key shares), on one thread and shared out over the cores.
/// </summary>
public class SegmentSortTests
{
    /// <summary>Segments of the given sizes, each with its own top 16 bits and low bits drawn from <paramref name="distinct"/> values.</summary>
    private static (uint[] Keys, int[] Bounds) Segments(int[] sizes, int distinct, int shift, int seed)
    {
        var rng = new Random(seed);
        var bounds = new int[sizes.Length + 1];
        for (int s = 0; s < sizes.Length; s++) bounds[s + 1] = bounds[s] + sizes[s];
        var keys = new uint[bounds[^1]];
        for (int s = 0; s < sizes.Length; s++)
        {
            uint top = (uint)(0x8000 + 3 * s) << 16;
            for (int i = bounds[s]; i < bounds[s + 1]; i++) keys[i] = top | (uint)((rng.Next(distinct) << shift) & 0xFFFF);
        }
        return (keys, bounds);
    }

    private static void AssertSortedLikeStableOrderBy(uint[] keys, int[] bounds, bool withPayload)
    {
        var original = keys.ToArray();
        int[] payload = [.. Enumerable.Range(0, keys.Length)];
        var expected = new List<int>();
        for (int s = 0; s + 1 < bounds.Length; s++)
            expected.AddRange(Enumerable.Range(bounds[s], bounds[s + 1] - bounds[s]).OrderBy(i => original[i])); // stable

        FloatKeys.SortLowBitsOfSegments(keys, withPayload ? payload : null, bounds, new uint[keys.Length], withPayload ? new int[keys.Length] : null);

        Assert.Equal(expected.Select(i => original[i]).ToArray(), keys);
        if (withPayload) Assert.Equal(expected.ToArray(), payload);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SmallAndLargeSegments_OnOneThread(bool withPayload)
    {
        // Below the parallel size: empty, single, insertion-sized (≤ 32) and counting-sized segments, many ties.
        var (keys, bounds) = Segments([0, 1, 2, 31, 32, 33, 500, 0, 4000, 7], distinct: 40, shift: 3, seed: 1);
        AssertSortedLikeStableOrderBy(keys, bounds, withPayload);
    }

    [Theory]
    [InlineData(0, false)] // the high byte shared by every key of a segment: one counting pass
    [InlineData(8, true)] // the low byte shared: one counting pass on the high byte
    [InlineData(4, true)] // both bytes vary: two passes
    public void APassIsSkipped_OnlyWhenEveryKeyOfTheSegmentSharesItsByte(int shift, bool withPayload)
    {
        var (keys, bounds) = Segments([300, 1000], distinct: 200, shift: shift, seed: 2);
        AssertSortedLikeStableOrderBy(keys, bounds, withPayload);
    }

    [Fact]
    public void AboveTheParallelSize_GroupsOfSegmentsOverTheCores_AsOneThread()
    {
        var rng = new Random(3);
        int[] sizes = [.. Enumerable.Range(0, 700).Select(_ => rng.Next(0, 600)), 40_000, 3];
        var (keys, bounds) = Segments(sizes, distinct: 5000, shift: 1, seed: 4);
        Assert.True(keys.Length > 1 << 16);
        AssertSortedLikeStableOrderBy(keys, bounds, withPayload: true);
    }

    [Fact]
    public void ArraysShorterThanTheSegments_AreRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => FloatKeys.SortLowBitsOfSegments(new uint[10], null, [0, 5, 12], new uint[12], null));
        Assert.Contains("12 keys", e.Message);
        Assert.Throws<ArgumentNullException>(() => FloatKeys.SortLowBitsOfSegments(new uint[4], new int[4], [0, 4], new uint[4], null));
    }
}
