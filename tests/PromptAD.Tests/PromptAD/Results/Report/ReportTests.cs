using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using PromptAD.Evaluation;
using PromptAD.Results;
using PromptAD.Results.Report;

namespace PromptAD.Tests.Results.Report;

/// <summary>
/// report.html of test and run: the metrics exactly as metrics.json holds them, names from files escaped, per defect
/// type AUROC by hand, nothing fetched, and `promptad report` redrawing the same file from the folder.
/// </summary>
[Collection("Console")]
public sealed partial class ReportTests : IDisposable
{
    private readonly TinyWorkspace _workspace = new("promptad-report-", size: 48);

    public void Dispose() => _workspace.Dispose();

    private static (int Code, string Out, string Err) Cli(params string[] args) => Adversarial.Hostile.Cli(args);

    private static RunMetrics Metrics(string category = "widget") =>
        new(category, 2, 0, "tiny-test", new EvaluationMetrics(0.75, 0.5, 0.6, 0.9, 0.8), 1, 2);

    private static ReportData Data(IReadOnlyList<ReportImage> images, double threshold = 0.18)
    {
        double[] s = [.. images.Select(i => i.Score)];
        bool[] y = [.. images.Select(i => i.IsAnomalous)];
        return new ReportData(images, new MetricCurves(ImageMetrics.Curves(s, y), [new(0, 0), new(1, 1)], [new(0, 0), new(0.3, 0.5)]),
            new ReportThreshold(threshold, "test"));
    }

    [Fact]
    public void NamesFromFiles_AreEscaped_AndNothingIsFetched()
    {
        const string hostile = "<img src=x onerror=alert(1)>";
        var images = new List<ReportImage>
        {
            new("w/test/good/a\"b&c.png", "good", false, 0.1, null),
            new("w/test/good/1.png", "good", false, 0.2, null),
            new($"w/test/{hostile}/x.png", hostile, true, 0.15, $"heatmaps/{hostile}/x #1.png"),
            new($"w/test/{hostile}/y.png", hostile, true, 0.3, null),
        };
        string html = TestReport.Build(_workspace.Dir, Metrics($"cat{hostile}"), Data(images));
        Assert.DoesNotContain(hostile, html);
        Assert.DoesNotContain("a\"b", html);
        Assert.Contains("&lt;img src=x onerror=alert(1)&gt;", html);
        Assert.Contains("a&quot;b&amp;c.png", html);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        // The only URL is the SVG namespace (an identifier, never fetched).
        Assert.All(UrlPattern().Matches(html), m => Assert.Equal("http://www.w3.org/2000/svg", m.Value));
    }

    [Fact]
    public void DefectTypes_AurocAgainstGood_AndThreshold()
    {
        var images = new List<ReportImage>
        {
            new("g1.png", "good", false, 0.1, null), new("g2.png", "good", false, 0.2, null),
            // crack: 0.15 beats 1 of 2 goods, 0.3 beats both → 3/4; dent: beats both → 1.
            new("c1.png", "crack", true, 0.15, null), new("c2.png", "crack", true, 0.3, null), new("d1.png", "dent", true, 0.25, null),
        };
        string html = TestReport.Build(_workspace.Dir, Metrics(), Data(images, threshold: 0.18));
        Assert.Matches(@"<tr><td>crack</td><td>2</td><td>1</td><td>0.225</td><td>75.00</td></tr>", html);
        Assert.Matches(@"<tr><td>dent</td><td>1</td><td>1</td><td>0.25</td><td>100.00</td></tr>", html);
        Assert.Matches(@"<tr><td>good</td><td>2</td><td>1</td>", html); // 0.2 ≥ 0.18 is flagged
        Assert.Contains("id=\"histogram-0\"", html);
        Assert.Contains("id=\"histogram-1\"", html);
        Assert.Contains("class=\"threshold\"", html);
    }

    [Fact]
    public void Test_WritesReport_WithMetricsJsonValues_AndReportRedrawsIt()
    {
        string model = Path.Combine(_workspace.Dir, "model.safetensors");
        var r = Cli("train", "--weights", _workspace.Weights, "--backbone", "tiny-test", "--data", _workspace.Data, "--category", "widget",
            "--shots", "2", "--epochs", "2", "--out", model);
        Assert.True(r.Code == 0, r.Err);
        string test = Path.Combine(_workspace.Dir, "test");
        r = Cli("test", "--model", model, "--weights", _workspace.Weights, "--data", _workspace.Data, "--size", "48", "--out", test);
        Assert.True(r.Code == 0, r.Err);
        string reportPath = Path.Combine(test, "report.html");
        Assert.Contains(new Uri(reportPath).AbsoluteUri, r.Out);
        string html = File.ReadAllText(reportPath);

        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(test, "metrics.json")));
        foreach (var metric in ResultMetrics.All)
        {
            var m = Regex.Match(html, $"data-key=\"{metric.Key()}\" data-value=\"([^\"]+)\"");
            Assert.True(m.Success, metric.Key());
            Assert.Equal(metrics.RootElement.GetProperty(metric.Key()).GetDouble(), double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
        }

        foreach (string id in new[] { "image-roc", "image-pr", "pixel-roc", "pro" }) Assert.Contains($"<svg id=\"{id}\"", html);
        Assert.Contains("<a href=\"heatmaps/scratch/", html);

        File.Delete(reportPath);
        r = Cli("report", test);
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(html, File.ReadAllText(reportPath));

        r = Cli("report", Path.Combine(_workspace.Dir, "nothing"));
        Assert.Equal(1, r.Code);
        Assert.Contains("nothing", r.Err);
    }

    [Fact]
    public void StoredThreshold_IsMarkedOnlyAtTheSizeItWasCalibratedAt()
    {
        string model = Path.Combine(_workspace.Dir, "calibrated.safetensors");
        var r = Cli("train", "--weights", _workspace.Weights, "--backbone", "tiny-test", "--data", _workspace.Data, "--category", "widget",
            "--shots", "2", "--epochs", "1", "--out", model);
        Assert.True(r.Code == 0, r.Err);
        r = Cli("calibrate", "--model", model, "--weights", _workspace.Weights, "--data", _workspace.Data, "--size", "32", "--fpr", "0.5");
        Assert.True(r.Code == 0, r.Err);

        foreach (var (size, stored) in new[] { ("32", true), ("48", false) })
        {
            string test = Path.Combine(_workspace.Dir, "test" + size);
            r = Cli("test", "--model", model, "--weights", _workspace.Weights, "--data", _workspace.Data, "--size", size, "--out", test);
            Assert.True(r.Code == 0, r.Err);
            using var data = JsonDocument.Parse(File.ReadAllText(Path.Combine(test, ReportData.FileName)));
            string source = data.RootElement.GetProperty("threshold").GetProperty("source").GetString()!;
            if (stored) Assert.StartsWith("stored in the model", source);
            else Assert.Contains("calibrated on 32 px maps, not these 48 px ones", source);
        }
    }

    [Fact]
    public void Run_WritesTableReport_LinkingEachRunsReport()
    {
        string output = Path.Combine(_workspace.Dir, "run");
        var r = Cli("run", "--weights", _workspace.Weights, "--backbone", "tiny-test", "--data", _workspace.Data, "--categories", "widget",
            "--shots", "1,2", "--seeds", "2", "--epochs", "2", "--size", "32", "--out", output);
        Assert.True(r.Code == 0, r.Err);
        string reportPath = Path.Combine(output, "report.html");
        string html = File.ReadAllText(reportPath);
        Assert.Contains(new Uri(reportPath).AbsoluteUri, r.Out);
        var all = Directory.GetFiles(Path.Combine(output, "runs"), "metrics.json", SearchOption.AllDirectories)
            .Select(f => MetricsJson.Parse(File.ReadAllText(f))).ToList();
        Assert.Equal(4, all.Count);
        foreach (int k in new[] { 1, 2 })
        {
            // The cell: mean ± population std over the two seeds, computed here from the runs' metrics.json.
            double[] v = [.. all.Where(m => m.Shots == k).Select(m => m.Metrics.ImageAuroc * 100)];
            double mean = v.Average(), std = Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / v.Length);
            Assert.Contains($"<td>{mean.ToString("F1", CultureInfo.InvariantCulture)} ± {std.ToString("F1", CultureInfo.InvariantCulture)}</td>", html);
        }

        for (int k = 1; k <= 2; k++)
            for (int s = 0; s < 2; s++)
            {
                string link = $"runs/widget/k{k}_seed{s}/report.html";
                Assert.Contains($"<a href=\"{link}\">", html);
                Assert.True(File.Exists(Path.Combine(output, link)), link);
            }

        Assert.Contains("<svg id=\"seeds-0\"", html);
        File.Delete(reportPath);
        r = Cli("report", output);
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(html, File.ReadAllText(reportPath));
    }

    [GeneratedRegex("[a-z]+://[^\"' <>]+")]
    private static partial Regex UrlPattern();
}
