using System.Diagnostics;
using System.Text.Json;
using PromptAD.Data;
using PromptAD.Evaluation;

namespace PromptAD.Tests.Evaluation;

public class PixelMetricsTests
{
    private readonly ITestOutputHelper output;

    public PixelMetricsTests(ITestOutputHelper output) => this.output = output;

    [Fact]
    public void MatchSklearnAndReferenceSweep()
    {
        using JsonDocument doc = MetricsGolden.Open("pixel_metrics.json");
        double worstAuroc = 0, worstAupro = 0;
        foreach (JsonElement c in doc.RootElement.EnumerateArray())
        {
            var (name, maps, masks) = MetricsGolden.PixelCase(c);

            double expected = c.GetProperty("auroc").GetDouble();
            double actual = PixelMetrics.Auroc(maps, masks);
            MetricsGolden.AssertRelative(expected, actual, 1e-9, name + " pixel AUROC");
            worstAuroc = Math.Max(worstAuroc, Math.Abs(actual - expected));

            foreach (JsonProperty limit in c.GetProperty("aupro").EnumerateObject())
            {
                double fprLimit = double.Parse(limit.Name, System.Globalization.CultureInfo.InvariantCulture);
                double pro = PixelMetrics.Aupro(maps, masks, fprLimit);
                // Same definition and curve points as the reference; only summation order differs.
                MetricsGolden.AssertRelative(limit.Value.GetDouble(), pro, 1e-9, $"{name} AUPRO@{limit.Name}");
                // Both from one shared split (what the evaluation loop uses): the same values.
                Assert.Equal((actual, pro), PixelMetrics.AurocAndAupro(maps, masks, fprLimit));
                worstAupro = Math.Max(worstAupro, Math.Abs(pro - limit.Value.GetDouble()));
            }
        }

        output.WriteLine($"max |Δ| pixel AUROC {worstAuroc:E2}, AUPRO {worstAupro:E2}");
    }

    [Fact]
    public void HandComputedAupro()
    {
        // One 2-pixel region and 2 normal pixels. Descending: 0.9 (region px) → FPR 0, PRO ½;
        // 0.5 (normal) → FPR ½, PRO ½; 0.4 (region px) → FPR ½, PRO 1; 0.1 (normal) → FPR 1, PRO 1.
        // Up to FPR 1: 0.5·(0 + ... ) — segments: (0,0)→(0,½) area 0; (0,½)→(½,½) 0.25; (½,1)→(1,1) 0.5 → 0.75.
        float[] map = [0.9f, 0.5f, 0.4f, 0.1f];
        var mask = new BinaryMask(2, 2, [1, 0, 1, 0]);
        Assert.Equal(0.75, PixelMetrics.Aupro([map], [mask], 1.0), 12);
        // Up to FPR 0.3: PRO is ½ on (0, 0.3] → area 0.15 / 0.3 = ½.
        Assert.Equal(0.5, PixelMetrics.Aupro([map], [mask], 0.3), 12);
        Assert.Equal(0.75, PixelMetrics.Auroc([map], [mask]), 15);
    }

    [Fact]
    public void DiagonalPixelsAreOneRegion()
    {
        var mask = new BinaryMask(3, 3, [1, 0, 0, 0, 1, 0, 0, 0, 1]);
        Assert.Equal(1, ConnectedComponents.Label(mask).Count);
        var two = new BinaryMask(4, 1, [1, 0, 1, 1]);
        (int[] labels, int count) = ConnectedComponents.Label(two);
        Assert.Equal(2, count);
        Assert.Equal([1, 0, 2, 2], labels);
    }

    [Fact]
    public void UndefinedCasesThrow()
    {
        float[] map = [0.1f, 0.2f, 0.3f, 0.4f];
        Assert.Throws<ArgumentException>(() => PixelMetrics.Auroc([map], [null]));
        Assert.Throws<ArgumentException>(() => PixelMetrics.Aupro([map], [BinaryMask.Empty(2, 2)]));
        Assert.Throws<ArgumentException>(() => PixelMetrics.Aupro([map], [new BinaryMask(2, 2, [1, 1, 1, 1])]));
        Assert.Throws<ArgumentException>(() => PixelMetrics.Auroc([map], [BinaryMask.Empty(3, 3)]));
        Assert.Throws<ArgumentException>(() => PixelMetrics.Auroc([[0.1f, float.NaN, 0, 0]], [new BinaryMask(2, 2, [1, 0, 0, 0])]));
    }

    [Fact]
    public void NegativeZeroEqualsZero()
    {
        // −0 and +0 are one threshold: a tie, so ½.
        Assert.Equal(0.5, PixelMetrics.Auroc([[-0f, 0f]], [new BinaryMask(2, 1, [1, 0])]));
    }

    [Fact]
    public void FullSizeCategoryIsFastAndAgreesWithImageAuroc()
    {
        // MVTec-sized: 83 maps of 400×400 (13.3 M pixels), quantized scores so that ties are everywhere.
        const int n = 83, side = 400;
        var rng = new Random(5);
        var maps = new List<float[]>();
        var masks = new List<BinaryMask?>();
        for (int i = 0; i < n; i++)
        {
            var mask = new byte[side * side];
            if (i % 4 != 0)
            {
                int cx = rng.Next(side), cy = rng.Next(side), r = rng.Next(5, 60);
                for (int y = Math.Max(0, cy - r); y < Math.Min(side, cy + r); y++)
                {
                    for (int x = Math.Max(0, cx - r); x < Math.Min(side, cx + r); x++)
                    {
                        mask[y * side + x] = 1;
                    }
                }
            }

            var map = new float[side * side];
            for (int j = 0; j < map.Length; j++)
            {
                map[j] = MathF.Round((float)rng.NextDouble() * 0.8f + 0.3f * mask[j], 3);
            }

            maps.Add(map);
            masks.Add(i % 4 != 0 ? new BinaryMask(side, side, mask) : null);
        }

        var sw = Stopwatch.StartNew();
        double auroc = PixelMetrics.Auroc(maps, masks);
        long aurocMs = sw.ElapsedMilliseconds;
        sw.Restart();
        double aupro = PixelMetrics.Aupro(maps, masks);
        long auproMs = sw.ElapsedMilliseconds;
        output.WriteLine($"13.3 M pixels: AUROC {auroc:F6} in {aurocMs} ms, AUPRO {aupro:F6} in {auproMs} ms");
        Assert.InRange(aurocMs, 0, 10_000);
        Assert.InRange(auproMs, 0, 10_000);

        // Cross-check against the comparison-sort image path on the first 8 maps (1.3 M pixels).
        var scores = new List<double>();
        var labels = new List<bool>();
        for (int i = 0; i < 8; i++)
        {
            for (int j = 0; j < maps[i].Length; j++)
            {
                scores.Add(maps[i][j]);
                labels.Add(masks[i] is { } m && m.Pixels[j] == 1);
            }
        }

        MetricsGolden.AssertRelative(
            ImageMetrics.Auroc([.. scores], [.. labels]), PixelMetrics.Auroc(maps[..8], masks[..8]), 1e-12, "subset AUROC");
    }
}
