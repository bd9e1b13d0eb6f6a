using PromptAD.Data;
using PromptAD.Evaluation;

namespace PromptAD.Tests.Evaluation;

/// <summary>
/// The pixel metrics' multi-core parts give one thread's results exactly: the chunked radix sort is a stable sort
/// (checked against LINQ's stable OrderBy above the parallel size); the parallel split reports the first map with a
/// NaN. (AUROC and AUPRO from one shared split are checked against the goldens in PixelMetricsTests.)
/// </summary>
public class ParallelMetricsTests
{
    [Theory]
    [InlineData(300_000, 1000, 0)] // many ties in the lowest byte
    [InlineData(200_003, 70_000, 8)] // ties spread over three bytes, an odd length
    public void Sort_IsStable_AboveTheParallelSize(int n, int distinct, int shift)
    {
        var rng = new Random(n);
        var keys = new uint[n];
        for (int i = 0; i < n; i++) keys[i] = (uint)rng.Next(distinct) << shift | 0x8000_0000u;
        int[] payload = [.. Enumerable.Range(0, n)];
        var expected = Enumerable.Range(0, n).OrderBy(i => keys[i]).ToArray(); // stable
        var expectedKeys = expected.Select(i => keys[i]).ToArray();

        FloatKeys.Sort(keys, payload);
        Assert.Equal(expectedKeys, keys);
        Assert.Equal(expected, payload);
    }

    [Fact]
    public void NaN_IsReportedForTheFirstMapThatHasOne()
    {
        var maps = Enumerable.Range(0, 6).Select(i => Enumerable.Repeat(i is 2 or 4 ? float.NaN : 0.5f, 64 * 64).ToArray()).ToList();
        var masks = maps.Select((_, i) => i == 1 ? new BinaryMask(64, 64, Enumerable.Repeat((byte)1, 64 * 64).ToArray()) : null).ToList();
        var e = Assert.Throws<ArgumentException>(() => PixelMetrics.AurocAndAupro(maps, masks));
        Assert.Contains("Anomaly map 2", e.Message);
    }
}
