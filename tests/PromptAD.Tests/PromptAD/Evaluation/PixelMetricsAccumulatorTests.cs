using System.Text.Json;
using PromptAD.Data;
using PromptAD.Evaluation;

namespace PromptAD.Tests.Evaluation;

/// <summary>
/// The streaming pixel metrics (bounded memory, spilled to a temporary file) against the sklearn/SciPy goldens and
/// against the in-memory <see cref="PixelMetrics"/>, with budgets small enough to force many key ranges and the
/// direct-addressing path of a crowded 16-bit bucket.
/// </summary>
public class PixelMetricsAccumulatorTests
{
    private static (double Auroc, double Aupro) Streamed(IReadOnlyList<float[]> maps, IReadOnlyList<BinaryMask?> masks, int budget, double limit = 0.3)
    {
        using var acc = new PixelMetricsAccumulator(budget);
        for (int i = 0; i < maps.Count; i++) acc.Add(maps[i], masks[i]);
        return acc.Compute(limit);
    }

    [Theory]
    [InlineData(PixelMetricsAccumulator.DefaultBudget)]
    [InlineData(64)]
    [InlineData(3)]
    public void MatchSklearnGoldens_AtAnyBudget(int budget)
    {
        using JsonDocument doc = MetricsGolden.Open("pixel_metrics.json");
        foreach (JsonElement c in doc.RootElement.EnumerateArray())
        {
            var (name, maps, masks) = MetricsGolden.PixelCase(c);
            foreach (JsonProperty limit in c.GetProperty("aupro").EnumerateObject())
            {
                double fprLimit = double.Parse(limit.Name, System.Globalization.CultureInfo.InvariantCulture);
                var (auroc, aupro) = Streamed(maps, masks, budget, fprLimit);
                MetricsGolden.AssertRelative(c.GetProperty("auroc").GetDouble(), auroc, 1e-9, $"{name} pixel AUROC (budget {budget})");
                MetricsGolden.AssertRelative(limit.Value.GetDouble(), aupro, 1e-9, $"{name} AUPRO@{limit.Name} (budget {budget})");
            }
        }
    }

    [Fact]
    public void HandComputed()
    {
        // As PixelMetricsTests.HandComputedAupro: AUROC ¾, AUPRO@1 ¾, AUPRO@0.3 ½.
        float[] map = [0.9f, 0.5f, 0.4f, 0.1f];
        var mask = new BinaryMask(2, 2, [1, 0, 1, 0]);
        Assert.Equal((0.75, 0.75), Streamed([map], [mask], 1, 1.0));
        Assert.Equal(0.5, Streamed([map], [mask], 2).Aupro, 12);
    }

    [Fact]
    public void NoAnomalousPixel_IsNaN_NoNormalPixel_Throws()
    {
        var (auroc, aupro) = Streamed([[0.1f, 0.2f]], [null], 10);
        Assert.True(double.IsNaN(auroc) && double.IsNaN(aupro));
        Assert.Throws<ArgumentException>(() => Streamed([[0.1f, 0.2f]], [new BinaryMask(2, 1, [1, 1])], 10));
        Assert.Throws<ArgumentException>(() => Streamed([[0.1f, float.NaN]], [new BinaryMask(2, 1, [1, 0])], 10));
    }

    /// <summary>Quantized scores (ties everywhere, many pixels on one value, so one 16-bit bucket exceeds the budget),
    /// many regions per image, good images without masks: equal to the in-memory sweep.</summary>
    [Fact]
    public void MatchInMemoryMetrics_WithTiesAndCrowdedBuckets()
    {
        var rng = new Random(11);
        const int side = 48;
        var maps = new List<float[]>();
        var masks = new List<BinaryMask?>();
        for (int i = 0; i < 30; i++)
        {
            var bits = new byte[side * side];
            if (i % 3 != 0)
                for (int r = 0; r < 4; r++)
                {
                    int cx = rng.Next(side), cy = rng.Next(side), rad = rng.Next(1, 8);
                    for (int y = Math.Max(0, cy - rad); y < Math.Min(side, cy + rad); y++)
                        for (int x = Math.Max(0, cx - rad); x < Math.Min(side, cx + rad); x++) bits[y * side + x] = 1;
                }
            var map = new float[side * side];
            for (int j = 0; j < map.Length; j++)
                map[j] = j % 5 == 0 ? 0.5f : MathF.Round((float)rng.NextDouble() * 0.7f + 0.3f * bits[j], 2 + (j % 3));
            maps.Add(map);
            masks.Add(i % 3 != 0 ? new BinaryMask(side, side, bits) : null);
        }

        double auroc = PixelMetrics.Auroc(maps, masks), aupro = PixelMetrics.Aupro(maps, masks);
        foreach (int budget in new[] { 500, 5000, 1 << 20 })
        {
            var s = Streamed(maps, masks, budget);
            MetricsGolden.AssertRelative(auroc, s.Auroc, 1e-12, $"AUROC, budget {budget}");
            MetricsGolden.AssertRelative(aupro, s.Aupro, 1e-12, $"AUPRO, budget {budget}");
        }
    }
    /// <summary>
    /// The sweep's order, written out plainly: every pixel sorted by score (LINQ's stable OrderBy), visited from the
    /// highest down, a tie's anomalous pixels last-added first, each adding 1/area of its region to the PRO sum; one
    /// threshold closed per distinct score. The accumulator gives these sums to the last bit, whether the key space is
    /// one range or cut into many (loaded into buckets, sorted per bucket, normal and anomalous pixels kept apart).
    /// </summary>
    [Fact]
    public void SumsInTheDocumentedOrder_ToTheLastBit_InOneRangeOrMany()
    {
        var (maps, masks) = TiedScores();
        var (auroc, aupro) = ReferenceSweep(maps, masks, 0.3);
        // The test can tell the orders apart: a tie's additions in the order of addition give other last bits.
        Assert.NotEqual(BitConverter.DoubleToInt64Bits(aupro), BitConverter.DoubleToInt64Bits(ReferenceSweep(maps, masks, 0.3, tiesInAddedOrder: true).Aupro));
        foreach (int budget in new[] { PixelMetricsAccumulator.DefaultBudget, 4000, 900 })
        {
            var s = Streamed(maps, masks, budget);
            Assert.True(BitConverter.DoubleToInt64Bits(auroc) == BitConverter.DoubleToInt64Bits(s.Auroc), $"AUROC {auroc:R} vs {s.Auroc:R} (budget {budget})");
            Assert.True(BitConverter.DoubleToInt64Bits(aupro) == BitConverter.DoubleToInt64Bits(s.Aupro), $"AUPRO {aupro:R} vs {s.Aupro:R} (budget {budget})");
        }
    }

    /// <summary>12 maps of 40×40, every other one with defects: mostly distinct scores of both signs, ties among normal
    /// pixels (3 decimals) and among anomalous pixels of regions of different areas (1 decimal, among the highest
    /// scores), where the order of the PRO sum's additions shows in its last bits.</summary>
    internal static (List<float[]> Maps, List<BinaryMask?> Masks) TiedScores()
    {
        var rng = new Random(21);
        const int side = 40;
        var maps = new List<float[]>();
        var masks = new List<BinaryMask?>();
        for (int i = 0; i < 12; i++)
        {
            var bits = new byte[side * side];
            if (i % 2 == 1)
                for (int r = 0; r < 3; r++)
                {
                    int cx = rng.Next(side), cy = rng.Next(side), rad = rng.Next(1, 6);
                    for (int y = Math.Max(0, cy - rad); y < Math.Min(side, cy + rad); y++)
                        for (int x = Math.Max(0, cx - rad); x < Math.Min(side, cx + rad); x++) bits[y * side + x] = 1;
                }
            maps.Add([.. Enumerable.Range(0, side * side).Select(j =>
                j % 7 == 0 ? MathF.Round((float)rng.NextDouble(), 3)
                : bits[j] == 1 && j % 2 == 0 ? MathF.Round(1.0f + 0.2f * (float)rng.NextDouble(), 1)
                : (float)(rng.NextDouble() * 1.2 - 0.1 + 0.3 * bits[j]))]);
            masks.Add(i % 2 == 1 ? new BinaryMask(side, side, bits) : null);
        }

        return (maps, masks);
    }

    internal static (double Auroc, double Aupro) ReferenceSweep(List<float[]> maps, List<BinaryMask?> masks, double limit, bool tiesInAddedOrder = false)
    {
        var pixels = new List<(float Score, double Weight)>(); // weight: 1/area of its region, −1 for a normal pixel
        int regions = 0;
        for (int i = 0; i < maps.Count; i++)
        {
            var (labels, count) = masks[i] is { } m && m.Any() ? ConnectedComponents.Label(m) : (null, 0);
            var areas = new int[count + 1];
            if (labels is not null) foreach (int l in labels) areas[l]++;
            regions += count;
            for (int j = 0; j < maps[i].Length; j++)
                pixels.Add((maps[i][j], labels is not null && labels[j] != 0 ? 1.0 / areas[labels[j]] : -1));
        }

        var sorted = pixels.OrderBy(p => p.Score).ToList(); // stable: a tie keeps the order of addition
        long positives = sorted.Count(p => p.Weight >= 0), negatives = sorted.Count - positives;
        long twiceU = 0, normalsAbove = 0;
        double proSum = 0, area = 0, prevFpr = 0, prevPro = 0;
        bool done = false;
        for (int i = sorted.Count - 1; i >= 0;)
        {
            float t = sorted[i].Score;
            long normals = 0, anomalous = 0;
            int i0 = i;
            for (; i >= 0 && sorted[i].Score == t; i--)
            {
                if (sorted[i].Weight < 0) normals++;
                else
                {
                    anomalous++;
                    if (!tiesInAddedOrder) proSum += sorted[i].Weight;
                }
            }
            if (tiesInAddedOrder) for (int q = i + 1; q <= i0; q++) if (sorted[q].Weight >= 0) proSum += sorted[q].Weight;

            twiceU += anomalous * (2 * (negatives - normalsAbove - normals) + normals);
            normalsAbove += normals;
            double fpr = normalsAbove / (double)negatives, pro = proSum / regions;
            if (done) continue;
            if (fpr >= limit)
            {
                double atLimit = fpr == prevFpr ? pro : prevPro + (pro - prevPro) * (limit - prevFpr) / (fpr - prevFpr);
                area += (limit - prevFpr) * (prevPro + atLimit) / 2;
                done = true;
                continue;
            }

            area += (fpr - prevFpr) * (prevPro + pro) / 2;
            (prevFpr, prevPro) = (fpr, pro);
        }

        return (twiceU / (2.0 * positives * negatives), area / limit);
    }
}

/// <summary>The same sums to the last bit when the spills have moved to temporary files and each key range is first
/// copied into a file of its own.</summary>
[Collection(SpillBudgetCollection.Name)]
public sealed class PixelMetricsOnDiskTests
{
    [Fact]
    public void SpillsOnDisk_CopiedIntoRangeFiles_SumInTheDocumentedOrder()
    {
        var (maps, masks) = PixelMetricsAccumulatorTests.TiedScores();
        var (auroc, aupro) = PixelMetricsAccumulatorTests.ReferenceSweep(maps, masks, 0.3);
        long budget = SpillFile.MemoryBudgetBytes;
        SpillFile.MemoryBudgetBytes = 0; // every spill of this process goes to disk meanwhile
        try
        {
            using var acc = new PixelMetricsAccumulator(900);
            for (int i = 0; i < maps.Count; i++) acc.Add(maps[i], masks[i]);
            Assert.False(acc.SpillsInMemory);
            var s = acc.Compute(0.3);
            Assert.True(BitConverter.DoubleToInt64Bits(auroc) == BitConverter.DoubleToInt64Bits(s.Auroc), $"AUROC {auroc:R} vs {s.Auroc:R}");
            Assert.True(BitConverter.DoubleToInt64Bits(aupro) == BitConverter.DoubleToInt64Bits(s.Aupro), $"AUPRO {aupro:R} vs {s.Aupro:R}");
        }
        finally
        {
            SpillFile.MemoryBudgetBytes = budget;
        }
    }
}
