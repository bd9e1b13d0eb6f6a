using System.Globalization;
using System.Text;
using PromptAD.Evaluation;
using PromptAD.Files;

namespace PromptAD.Results.Report;

/// <summary>
/// report.html of a `promptad run` job: the category × k table of every metric (mean ± std over seeds, as results.md),
/// per category the seeds' spread as a small dot plot, and links to each run's own report. Self-contained like
/// <see cref="TestReport"/>.
/// </summary>
public static class RunReport
{
    /// <summary>A run's folder relative to the job's results folder (as `run` lays them out).</summary>
    public static string RunFolder(RunMetrics run) => $"runs/{run.Category}/k{run.Shots.ToString(CultureInfo.InvariantCulture)}_seed{run.Seed.ToString(CultureInfo.InvariantCulture)}";

    public static string Write(string folder, IReadOnlyList<RunMetrics> runs)
    {
        string path = Path.Combine(folder, TestReport.FileName);
        AtomicFile.WriteAllText(path, Build(folder, runs));
        return path;
    }

    public static string Build(string folder, IReadOnlyList<RunMetrics> runs)
    {
        var body = new StringBuilder();
        var backbones = runs.Select(r => r.Backbone).Distinct(StringComparer.Ordinal).ToList();
        body.Append("<h1>PromptAD results</h1>");
        body.Append($"<p class=\"sub\">{runs.Count} run(s) · backbone {Html.Text(string.Join(", ", backbones))} · "
            + "each cell: mean ± std over seeds (population std), ×100; the last row averages the categories per seed</p>");
        foreach (var metric in ResultMetrics.All)
        {
            var t = ResultsTable.Build(runs, metric);
            body.Append($"<h2>{metric.Title()}</h2><table id=\"table-{metric.Key()}\"><tr><th>category</th>");
            foreach (int k in t.Shots) body.Append($"<th>{k}-shot</th>");
            body.Append("</tr>");
            for (int row = 0; row <= t.Categories.Count; row++)
            {
                string name = row < t.Categories.Count ? Html.Text(t.Categories[row]) : $"<b>{ResultsTable.MeanRowName}</b>";
                body.Append($"<tr><td>{name}</td>");
                for (int s = 0; s < t.Shots.Count; s++) body.Append($"<td>{Html.Text(ResultsTable.FormatCell(t[row, s]))}</td>");
                body.Append("</tr>");
            }

            body.Append("</table>");
        }

        body.Append("<h2>Seeds per category</h2><p class=\"sub\">Each dot a seed, the bar their mean.</p><div class=\"charts\">");
        var shots = runs.Select(r => r.Shots).Distinct().Order().ToList();
        int n = 0;
        foreach (var category in runs.GroupBy(r => r.Category, StringComparer.Ordinal))
        {
            foreach (var metric in new[] { ResultMetric.ImageAuroc, ResultMetric.PixelAuroc })
            {
                if (category.All(r => double.IsNaN(r.Of(metric)))) continue;
                string svg = SvgChart.Seeds($"seeds-{n++}", shots, k => [.. category.Where(r => r.Shots == k).Select(r => r.Of(metric) * 100)], metric.Title() + " (%)");
                body.Append("<figure>").Append(svg).Append($"<figcaption>{Html.Text(category.Key)} — {metric.Title()}</figcaption></figure>");
            }
        }

        body.Append("</div><h2>Runs</h2><table id=\"runs\"><tr><th>run</th><th>image AUROC</th><th>pixel AUROC</th><th>report</th></tr>");
        foreach (var run in runs.OrderBy(r => r.Category, StringComparer.Ordinal).ThenBy(r => r.Shots).ThenBy(r => r.Seed))
        {
            string dir = RunFolder(run);
            bool hasReport = File.Exists(Path.Combine(folder, dir, TestReport.FileName));
            body.Append($"<tr><td>{Html.Text(run.Category)} k={run.Shots} seed {run.Seed}</td><td>{Html.Percent(run.Metrics.ImageAuroc)}</td><td>{Html.Percent(run.Metrics.PixelAuroc)}</td>"
                + $"<td>{(hasReport ? $"<a href=\"{Html.Href(dir + "/" + TestReport.FileName)}\">report</a>" : "–")}</td></tr>");
        }

        body.Append("</table><h2>Files</h2><p><a href=\"results.md\">results.md</a> · <a href=\"results.csv\">results.csv</a> · <a href=\"metrics.csv\">metrics.csv</a></p>");
        return Html.Page("PromptAD results", body.ToString());
    }
}
