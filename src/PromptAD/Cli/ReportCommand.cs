using System.CommandLine;
using System.Text.Json;
using PromptAD.Data;
using PromptAD.Files;
using PromptAD.Jobs;
using PromptAD.Results;
using PromptAD.Results.Report;

namespace PromptAD.Cli;

/// <summary>
/// `promptad report FOLDER`: redraws report.html from a results folder — a test's (metrics.json + report-data.json) or a
/// run job's (runs/&lt;category&gt;/k&lt;k&gt;_seed&lt;s&gt;/metrics.json; each run's own report is redrawn too where it has
/// its data). Nothing is scored again.
/// </summary>
internal static class ReportCommand
{
    public static Command Create()
    {
        var folder = new Argument<DirectoryInfo>("folder") { Description = "results folder of `promptad test` or `promptad run`" };
        var command = new Command("report", "Rebuilds report.html (curves, defect types, score histograms, heatmap gallery; for run: the category × k table) from a results folder.")
        {
            folder,
        };
        command.SetAction(p => Run(p.GetValue(folder)!));
        return command;
    }

    internal static int Run(DirectoryInfo folder)
    {
        if (!folder.Exists) throw new DatasetException($"Results folder '{folder.FullName}' does not exist.");
        string dir = folder.FullName;
        string path;
        if (File.Exists(Path.Combine(dir, TestRunner.MetricsJson)))
        {
            path = RenderTest(dir);
        }
        else if (Directory.Exists(Path.Combine(dir, "runs")))
        {
            var runs = RunCommand.FinishedRuns(dir).Select(Path.GetDirectoryName).OfType<string>().ToList();
            if (runs.Count == 0) throw new DatasetException($"'{dir}' has a runs/ folder but no finished run (runs/<category>/<run>/{TestRunner.MetricsJson}).");
            using var held = ResultsFolder.Open(dir, "report");
            foreach (string run in runs.Where(r => File.Exists(Path.Combine(r, ReportData.FileName)))) RenderTest(run);
            path = RunReport.Write(dir, [.. runs.Select(r => RunCommand.ReadMetrics(Path.Combine(r, TestRunner.MetricsJson)))]);
        }
        else
        {
            throw new DatasetException($"'{dir}' is not a results folder: it has neither {TestRunner.MetricsJson} (from test) nor runs/ (from run).");
        }

        PrintLocation(path);
        return 0;
    }

    private static string RenderTest(string dir)
    {
        var metrics = RunCommand.ReadMetrics(Path.Combine(dir, TestRunner.MetricsJson));
        string dataPath = Path.Combine(dir, ReportData.FileName);
        if (!File.Exists(dataPath))
            throw new DatasetException($"'{dir}' has no {ReportData.FileName} (written by test since reports exist); test again to get a report.");
        ReportData data;
        try { data = ReportData.Parse(File.ReadAllText(dataPath)); }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
        {
            throw new DatasetException($"'{dataPath}' is not a report data file ({e.Message}); test again to rewrite it.", e);
        }

        return TestReport.Render(dir, metrics, data);
    }

    /// <summary>The report's path and its file:// URL, to open in a browser.</summary>
    public static void PrintLocation(string reportPath)
    {
        Console.WriteLine($"report: {reportPath}");
        Console.WriteLine($"        {new Uri(Path.GetFullPath(reportPath)).AbsoluteUri}");
    }
}
