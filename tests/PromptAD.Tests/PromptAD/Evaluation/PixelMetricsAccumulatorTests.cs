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
}
