using System.Text.Json;
using PromptAD.Evaluation;

namespace PromptAD.Tests.Evaluation;

public class ImageMetricsTests
{
    [Fact]
    public void HandComputedAuroc()
    {
        // Positives 0.35, 0.8 vs negatives 0.1, 0.4: 0.35 beats 1 of 2, 0.8 beats 2 of 2 → 3/4.
        Assert.Equal(0.75, ImageMetrics.Auroc([0.1, 0.4, 0.35, 0.8], [false, false, true, true]));
    }

    [Fact]
    public void TiesCountHalf()
    {
        // The positive ties one negative and beats the other: (1 + ½)/2.
        Assert.Equal(0.75, ImageMetrics.Auroc([0.5, 0.2, 0.5], [true, false, false]));
        Assert.Equal(0.5, ImageMetrics.Auroc([0.3, 0.3, 0.3, 0.3], [true, false, true, false]));
    }

    [Fact]
    public void HandComputedApAndF1()
    {
        // Descending: 0.8(+) 0.4(−) 0.35(+) 0.1(−). AP = ½·1 + ½·⅔ = 5/6. F1 at 0.35: P = ⅔, R = 1 → 0.8.
        double[] s = [0.1, 0.4, 0.35, 0.8];
        bool[] y = [false, false, true, true];
        Assert.Equal(5.0 / 6.0, ImageMetrics.AveragePrecision(s, y), 15);
        Assert.Equal(0.8, ImageMetrics.F1Max(s, y), 15);
    }

    [Fact]
    public void UndefinedCasesThrow()
    {
        var e = Assert.Throws<ArgumentException>(() => ImageMetrics.Auroc([0.1, 0.2], [true, true]));
        Assert.Contains("only one class", e.Message);
        Assert.Throws<ArgumentException>(() => ImageMetrics.Auroc([0.1, 0.2], [false, false]));
        Assert.Throws<ArgumentException>(() => ImageMetrics.AveragePrecision([0.1, 0.2], [false, false]));
        Assert.Throws<ArgumentException>(() => ImageMetrics.F1Max([0.1, 0.2], [false, false]));
        Assert.Throws<ArgumentException>(() => ImageMetrics.Auroc([0.1, double.NaN], [true, false]));
        Assert.Throws<ArgumentException>(() => ImageMetrics.Auroc([0.1], [true, false]));
        Assert.Equal(1.0, ImageMetrics.AveragePrecision([0.1, 0.2], [true, true]));
    }

    [Fact]
    public void MatchSklearn()
    {
        using JsonDocument doc = MetricsGolden.Open("image_metrics.json");
        int cases = 0;
        foreach (JsonElement c in doc.RootElement.EnumerateArray())
        {
            string name = c.GetProperty("name").GetString()!;
            double[] scores = [.. c.GetProperty("scores").EnumerateArray().Select(v => v.GetDouble())];
            bool[] labels = [.. c.GetProperty("labels").EnumerateArray().Select(v => v.GetInt32() != 0)];
            MetricsGolden.AssertRelative(c.GetProperty("auroc").GetDouble(), ImageMetrics.Auroc(scores, labels), 1e-9, name + " AUROC");
            MetricsGolden.AssertRelative(c.GetProperty("ap").GetDouble(), ImageMetrics.AveragePrecision(scores, labels), 1e-9, name + " AP");
            MetricsGolden.AssertRelative(c.GetProperty("f1max").GetDouble(), ImageMetrics.F1Max(scores, labels), 1e-9, name + " F1max");
            cases++;
        }

        Assert.True(cases >= 8);
    }
}
