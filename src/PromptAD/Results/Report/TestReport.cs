using System.Text;
using PromptAD.Evaluation;
using PromptAD.Files;
using PromptAD.Terminal;

namespace PromptAD.Results.Report;

/// <summary>
/// report.html of one test run: the metrics exactly as metrics.json holds them, their curves (from the same sweeps,
/// thinned), per defect type counts and image AUROC against the good images, score histograms with the threshold, and a
/// gallery of the worst false positives, worst false negatives and a sample of the rest (inline thumbnails linking to
/// the full heatmaps). One self-contained file: inline CSS and SVG, no script, nothing fetched.
/// </summary>
public static class TestReport
{
    public const string FileName = "report.html";

    /// <summary>Tiles per gallery section: worst false positives and false negatives; the sample of the rest.</summary>
    public const int WorstCount = 6, SampleCount = 12;

    private const int Bins = 20;

    /// <summary>Writes report-data.json (what `promptad report` redraws from) and report.html into <paramref name="folder"/>.</summary>
    public static string Write(string folder, RunMetrics metrics, ReportData data)
    {
        AtomicFile.WriteAllText(Path.Combine(folder, ReportData.FileName), data.Serialize());
        return Render(folder, metrics, data);
    }

    /// <summary>Writes report.html from what is already in <paramref name="folder"/>; returns its path.</summary>
    public static string Render(string folder, RunMetrics metrics, ReportData data)
    {
        string path = Path.Combine(folder, FileName);
        AtomicFile.WriteAllText(path, Build(folder, metrics, data));
        return path;
    }

    public static string Build(string folder, RunMetrics m, ReportData data)
    {
        var body = new StringBuilder();
        var images = data.Images;
        int good = images.Count(i => !i.IsAnomalous);
        body.Append($"<h1>{Html.Text(m.Category)} — test report</h1>");
        body.Append($"<p class=\"sub\">backbone {Html.Text(m.Backbone)} · {m.Shots}-shot · seed {m.Seed} · {images.Count} images ({good} good, {images.Count - good} defective) · "
            + $"test {Fmt.F(m.TestSeconds, 1)} s{(double.IsNaN(m.TrainSeconds) ? "" : $" · train {Fmt.F(m.TrainSeconds, 1)} s")}</p>");

        body.Append("<h2>Metrics</h2><table id=\"metrics\"><tr><th>metric</th><th>value (%)</th></tr>");
        foreach (var metric in ResultMetrics.All)
        {
            double v = m.Of(metric);
            // data-value: the number metrics.json holds (×100), to full precision.
            string value = double.IsNaN(v) ? "null" : (v * 100).ToString("R", System.Globalization.CultureInfo.InvariantCulture);
            body.Append($"<tr><td>{metric.Title()}</td><td data-key=\"{metric.Key()}\" data-value=\"{value}\">{Html.Percent(v, 2)}</td></tr>");
        }

        body.Append("</table>");
        AppendCurves(body, m, data);
        AppendDefects(body, images, data.Threshold);
        AppendGallery(body, folder, images, data.Threshold);
        body.Append("<h2>Files</h2><p><a href=\"metrics.json\">metrics.json</a> · <a href=\"scores.csv\">scores.csv</a>"
            + (images.Any(i => i.Heatmap is not null) ? " · <a href=\"heatmaps/\">heatmaps/</a>" : "") + "</p>");
        return Html.Page($"{m.Category} — PromptAD test report", body.ToString());
    }

    private static void AppendCurves(StringBuilder body, RunMetrics m, ReportData data)
    {
        var c = data.Curves;
        double positives = data.Images.Count(i => i.IsAnomalous) / (double)Math.Max(1, data.Images.Count);
        body.Append("<h2>Curves</h2><div class=\"charts\">");
        Figure(body, SvgChart.Curve("image-roc", c.Image.Roc, "false positive rate", "true positive rate", chanceIsDiagonal: true),
            $"Image ROC — AUROC {Html.Percent(m.Metrics.ImageAuroc, 2)}");
        Figure(body, SvgChart.Curve("image-pr", c.Image.PrecisionRecall, "recall", "precision", chance: positives),
            $"Image precision–recall — AUPR {Html.Percent(m.Metrics.ImageAupr, 2)}, F1-max {Html.Percent(m.Metrics.ImageF1Max, 2)}");
        if (c.PixelRoc is { } pixelRoc)
            Figure(body, SvgChart.Curve("pixel-roc", pixelRoc, "false positive rate", "true positive rate", chanceIsDiagonal: true),
                $"Pixel ROC — AUROC {Html.Percent(m.Metrics.PixelAuroc, 2)}");
        if (c.Pro is { } pro)
            Figure(body, SvgChart.Curve("pro", pro, "false positive rate", "per-region overlap", xMax: MetricCurves.AuproLimit),
                $"PRO up to FPR {Html.N(MetricCurves.AuproLimit)} — AUPRO {Html.Percent(m.Metrics.PixelAupro, 2)}");
        body.Append("</div>");
        if (c.PixelRoc is null) body.Append("<p class=\"sub\">No anomalous pixel in the ground truth: no pixel curves.</p>");
    }

    private static void Figure(StringBuilder body, string svg, string caption) =>
        body.Append("<figure>").Append(svg).Append("<figcaption>").Append(Html.Text(caption)).Append("</figcaption></figure>");

    private static void AppendDefects(StringBuilder body, IReadOnlyList<ReportImage> images, ReportThreshold threshold)
    {
        var goods = images.Where(i => !i.IsAnomalous).Select(i => i.Score).ToList();
        var types = images.Where(i => i.IsAnomalous).GroupBy(i => i.DefectType, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal).ToList();
        body.Append("<h2>Defect types</h2>");
        body.Append($"<p>Threshold {Html.Score(threshold.Value)} ({Html.Text(threshold.Source)}): anomalous when the image score is ≥ it.</p>");
        body.Append("<table id=\"defects\"><tr><th>type</th><th>images</th><th>flagged at threshold</th><th>mean score</th><th>image AUROC vs good (%)</th></tr>");
        body.Append($"<tr><td>good</td><td>{goods.Count}</td><td>{goods.Count(threshold.Flags)}</td><td>{(goods.Count == 0 ? "–" : Html.Score(goods.Average()))}</td><td>–</td></tr>");
        foreach (var type in types)
        {
            var scores = type.Select(i => i.Score).ToList();
            string auroc = goods.Count == 0 ? "–" : Html.Percent(ImageMetrics.Auroc([.. goods, .. scores], [.. goods.Select(_ => false), .. scores.Select(_ => true)]), 2);
            body.Append($"<tr><td>{Html.Text(type.Key)}</td><td>{scores.Count}</td><td>{scores.Count(threshold.Flags)}</td><td>{Html.Score(scores.Average())}</td><td>{auroc}</td></tr>");
        }

        body.Append("</table>");
        if (images.Count == 0) return;
        double lo = Math.Min(images.Min(i => i.Score), threshold.Value), hi = Math.Max(images.Max(i => i.Score), threshold.Value);
        body.Append("<h2>Score distribution</h2><p class=\"sub\">Grey: good images; red: the defect type; dashed line: the threshold.</p><div class=\"charts\">");
        int n = 0;
        foreach (var type in types)
            Figure(body, SvgChart.Histogram($"histogram-{n++}", goods, [.. type.Select(i => i.Score)], lo, hi, Bins, threshold.Value), $"good vs {type.Key}");
        body.Append("</div>");
    }

    private static void AppendGallery(StringBuilder body, string folder, IReadOnlyList<ReportImage> images, ReportThreshold threshold)
    {
        body.Append("<h2>Gallery</h2>");
        if (!images.Any(i => i.Heatmap is not null)) body.Append("<p class=\"sub\">No heatmaps were written for this run (they are optional: `promptad test` writes them unless told not to, `promptad run` when asked).</p>");
        var fp = images.Where(i => !i.IsAnomalous).OrderByDescending(i => i.Score).Take(WorstCount).ToList();
        var fn = images.Where(i => i.IsAnomalous).OrderBy(i => i.Score).Take(WorstCount).ToList();
        var rest = images.Except(fp).Except(fn).ToList();
        var sample = rest.Count <= SampleCount ? rest : [.. Enumerable.Range(0, SampleCount).Select(i => rest[(int)((long)i * rest.Count / SampleCount)])];
        Section("worst-fp", "Highest-scoring good images (worst false positives)", fp);
        Section("worst-fn", "Lowest-scoring defective images (worst false negatives)", fn);
        Section("sample", "A sample of the rest", sample);

        void Section(string id, string title, List<ReportImage> tiles)
        {
            body.Append($"<h3>{Html.Text(title)}</h3><div class=\"gallery\" id=\"{id}\">");
            if (tiles.Count == 0) body.Append("<p class=\"sub\">none</p>");
            foreach (var image in tiles)
            {
                bool flagged = threshold.Flags(image.Score);
                string verdict = flagged == image.IsAnomalous ? (flagged ? "detected" : "passed") : (flagged ? "false positive" : "false negative");
                body.Append("<div class=\"tile\">");
                if (image.Heatmap is { } heatmap && Thumbnail.DataUrl(Path.Combine(folder, heatmap)) is { } url)
                    body.Append($"<a href=\"{Html.Href(heatmap)}\"><img src=\"{url}\" height=\"{Thumbnail.Height}\" alt=\"{Html.Text(image.Path)}\"></a>");
                body.Append($"<div class=\"name\">{Html.Text(image.Path)}</div><div>{Html.Text(image.DefectType)} · score {Html.Score(image.Score)} · "
                    + $"<span class=\"{(verdict.StartsWith("false", StringComparison.Ordinal) ? "fp" : "ok")}\">{verdict}</span></div></div>");
            }

            body.Append("</div>");
        }
    }
}
