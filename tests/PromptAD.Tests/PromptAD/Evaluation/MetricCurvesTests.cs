using System.Text.Json;
using PromptAD.Evaluation;

namespace PromptAD.Tests.Evaluation;

/// <summary>
/// The curves the report draws come from the metrics' own sweeps: hand-computed image ROC/PR points, and for the pixel
/// sweep the trapezoid area under the returned (unthinned) curves equals the sklearn/SciPy goldens' AUROC and AUPRO.
/// </summary>
public class MetricCurvesTests
{
    private static double Area(IReadOnlyList<CurvePoint> points)
    {
        double area = 0;
        for (int i = 1; i < points.Count; i++) area += (points[i].X - points[i - 1].X) * (points[i].Y + points[i - 1].Y) / 2;
        return area;
    }

    [Fact]
    public void ImageCurves_HandComputed()
    {
        // Descending: 0.8(+) 0.4(−) 0.35(+) 0.1(−); P = N = 2.
        var c = ImageMetrics.Curves([0.1, 0.4, 0.35, 0.8], [false, false, true, true], step: 1e-12);
        Assert.Equal([new(0, 0), new(0, 0.5), new(0.5, 0.5), new(0.5, 1), new(1, 1)], c.Roc);
        Assert.Equal([new(0.5, 1), new(0.5, 0.5), new(1, 2.0 / 3), new(1, 0.5)], c.PrecisionRecall);
        Assert.Equal(0.35, c.F1Threshold); // F1 0.8 at 0.35 beats 2/3 at 0.8
    }

    [Fact]
    public void ImageCurves_TiesAreOnePoint()
    {
        var c = ImageMetrics.Curves([0.5, 0.2, 0.5], [true, false, false], step: 1e-12);
        Assert.Equal([new(0, 0), new(0.5, 1), new(1, 1)], c.Roc);
        Assert.Equal(0.75, Area(c.Roc), 15);
    }

    [Fact]
    public void Thinning_KeepsEndsAndBoundsThePoints()
    {
        var rng = new Random(3);
        double[] scores = [.. Enumerable.Range(0, 20000).Select(_ => rng.NextDouble())];
        bool[] labels = [.. scores.Select(s => rng.NextDouble() < s)];
        var c = ImageMetrics.Curves(scores, labels, step: 0.01);
        Assert.InRange(c.Roc.Count, 10, 250);
        Assert.Equal(new CurvePoint(0, 0), c.Roc[0]);
        Assert.Equal(new CurvePoint(1, 1), c.Roc[^1]);
        // Thinned for drawing only: the area moves by less than the step.
        Assert.Equal(ImageMetrics.Auroc(scores, labels), Area(c.Roc), 0.01);
    }

    [Theory]
    [InlineData(PixelMetricsAccumulator.DefaultBudget)]
    [InlineData(3)]
    public void PixelCurves_AreaEqualsGoldenMetrics(int budget)
    {
        using JsonDocument doc = MetricsGolden.Open("pixel_metrics.json");
        int cases = 0;
        foreach (JsonElement c in doc.RootElement.EnumerateArray())
        {
            var (name, maps, masks) = MetricsGolden.PixelCase(c);
            foreach (JsonProperty limit in c.GetProperty("aupro").EnumerateObject())
            {
                double fprLimit = double.Parse(limit.Name, System.Globalization.CultureInfo.InvariantCulture);
                using var acc = new PixelMetricsAccumulator(budget);
                for (int i = 0; i < maps.Count; i++) acc.Add(maps[i], masks[i]);
                var sweep = acc.Compute(fprLimit, curveStep: 1e-12);
                Assert.Equal(new CurvePoint(0, 0), sweep.Roc![0]);
                Assert.Equal(1, sweep.Roc[^1].X, 12);
                Assert.Equal(1, sweep.Roc[^1].Y, 12);
                Assert.Equal(fprLimit, sweep.Pro![^1].X, 12);
                MetricsGolden.AssertRelative(c.GetProperty("auroc").GetDouble(), Area(sweep.Roc), 1e-9, $"{name} area under the pixel ROC");
                MetricsGolden.AssertRelative(limit.Value.GetDouble(), Area(sweep.Pro) / fprLimit, 1e-9, $"{name} area under PRO up to {limit.Name}");
                cases++;
            }
        }

        Assert.True(cases > 3);
    }
}
