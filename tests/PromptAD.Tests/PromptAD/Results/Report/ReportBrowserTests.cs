using System.Text.Json.Nodes;
using PromptAD.Tests.Requirements;

namespace PromptAD.Tests.Results.Report;

/// <summary>
/// The tiny-model demo's report.html opened in a real browser (headless Chromium, from its file:// URL): no console
/// error, no failed load, no request leaving the file, every image decoded, the four curves drawn as SVG paths with
/// points, the gallery's links pointing at heatmaps that exist; a screenshot goes under the test's output.
/// </summary>
[Collection("Console")]
public sealed class ReportBrowserTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("promptad-report-browser-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>Where the screenshot goes: TestResults/ beside the test binary.</summary>
    public static string ScreenshotPath => Path.Combine(AppContext.BaseDirectory, "TestResults", "demo-report.png");

    [Fact]
    public async Task DemoReport_RendersInChromiumWithoutErrors()
    {
        OptionalPart.Chromium.Require();
        string demo = Path.Combine(_dir, "demo");
        var r = Adversarial.Hostile.Cli("demo", "--out", demo, "--epochs", "3");
        Assert.True(r.Code == 0, r.Err);
        string report = Path.Combine(demo, "test", "report.html");
        var url = new Uri(report);
        Assert.Contains(url.AbsoluteUri, r.Out); // the demo ends by printing where to open it

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await using var browser = await HeadlessChromium.Start(OptionalPart.ChromiumBinary!, timeout.Token);
        await browser.Open(url, timeout.Token);
        var page = (await browser.Evaluate("""
            JSON.stringify({
              images: [...document.images].map(i => ({ alt: i.alt, ok: i.complete && i.naturalWidth > 0 })),
              curves: ['image-roc', 'image-pr', 'pixel-roc', 'pro'].map(id => {
                const p = document.querySelector('svg#' + id + ' path.curve');
                return { id, points: p ? (p.getAttribute('d').match(/[ML]/g) || []).length : 0, length: p ? p.getTotalLength() : 0 };
              }),
              histograms: document.querySelectorAll('svg[id^=histogram] rect').length,
              links: [...document.querySelectorAll('.gallery a')].map(a => a.href),
              scripts: document.scripts.length,
            })
            """, timeout.Token))!.GetValue<string>();
        output.WriteLine(page);
        var json = JsonNode.Parse(page)!;

        Assert.Empty(browser.Errors);
        Assert.All(browser.Requests, u => Assert.True(u.StartsWith("file:", StringComparison.Ordinal) || u.StartsWith("data:", StringComparison.Ordinal), u));
        var images = json["images"]!.AsArray();
        Assert.NotEmpty(images); // the demo writes heatmaps: the gallery has thumbnails
        Assert.All(images, i => Assert.True(i!["ok"]!.GetValue<bool>(), $"image did not load: {i!["alt"]}"));
        foreach (var curve in json["curves"]!.AsArray())
        {
            Assert.True(curve!["points"]!.GetValue<int>() >= 2, $"{curve["id"]}: no curve path with points");
            Assert.True(curve["length"]!.GetValue<double>() > 10, $"{curve["id"]}: the path has no length");
        }

        Assert.True(json["histograms"]!.GetValue<int>() > 0);
        Assert.Equal(0, json["scripts"]!.GetValue<int>());
        var links = json["links"]!.AsArray().Select(l => new Uri(l!.GetValue<string>())).ToList();
        Assert.Equal(images.Count, links.Count);
        Assert.All(links, l => Assert.True(File.Exists(l.LocalPath), $"gallery link to a missing file: {l}"));

        byte[] png = await browser.Screenshot(1200, timeout.Token);
        Directory.CreateDirectory(Path.GetDirectoryName(ScreenshotPath)!);
        await File.WriteAllBytesAsync(ScreenshotPath, png, timeout.Token);
        output.WriteLine($"screenshot: {ScreenshotPath}");
        Assert.True(png.Length > 1000 && png[1] == (byte)'P' && png[2] == (byte)'N' && png[3] == (byte)'G');
    }
}
