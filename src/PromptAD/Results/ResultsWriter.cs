using System.Text;
using PromptAD.Evaluation;
using PromptAD.Files;

namespace PromptAD.Results;

/// <summary>
/// Writes a run's result files (per-image scores CSV, metrics JSON and CSV), each atomically. Metric values are
/// written ×100 like the paper; CSV is RFC 4180 with a header row, invariant culture, empty field for NaN.
/// </summary>
public static class ResultsWriter
{
    public static readonly IReadOnlyList<string> ScoreColumns = ["path", "defect_type", "label", "image_score", "prompt_score", "vision_max"];

    public static readonly IReadOnlyList<string> MetricColumns =
        ["category", "shots", "seed", "backbone", "image_auroc", "image_aupr", "image_f1_max", "pixel_auroc", "pixel_aupro", "train_seconds", "test_seconds"];

    /// <param name="relativeTo">When given, paths are written relative to this folder (e.g. the dataset root), so files compare across machines.</param>
    public static string ScoresCsv(IEnumerable<ImageResult> rows, string? relativeTo = null)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var sb = new StringBuilder();
        Csv.AppendRecord(sb, ScoreColumns);
        foreach (ImageResult r in rows)
        {
            string path = relativeTo is null ? r.ImagePath : Path.GetRelativePath(relativeTo, r.ImagePath).Replace('\\', '/');
            Csv.AppendRecord(sb, [path, r.DefectType, r.IsAnomalous ? "1" : "0", Csv.Number(r.Score), Csv.Number(r.PromptScore), Csv.Number(r.VisionMax)]);
        }

        return sb.ToString();
    }

    public static void WriteScoresCsv(string path, IEnumerable<ImageResult> rows, string? relativeTo = null) =>
        AtomicFile.WriteAllText(path, ScoresCsv(rows, relativeTo));

    public static readonly IReadOnlyList<string> PredictionColumns = ["path", "image_score", "prompt_score", "vision_max", "heatmap"];

    /// <summary>predict's scores.csv: one row per image; the 'anomalous' (yes/no) column only with a threshold.</summary>
    public static string PredictionsCsv(IEnumerable<Prediction> rows, bool withVerdict)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var sb = new StringBuilder();
        Csv.AppendRecord(sb, withVerdict ? [.. PredictionColumns, "anomalous"] : PredictionColumns);
        foreach (Prediction r in rows)
        {
            List<string> row = [r.ImagePath, Csv.Number(r.Score), Csv.Number(r.PromptScore), Csv.Number(r.VisionMax), r.Heatmap];
            if (withVerdict)
            {
                row.Add(r.Anomalous is true ? "yes" : "no");
            }

            Csv.AppendRecord(sb, row);
        }

        return sb.ToString();
    }

    public static void WritePredictionsCsv(string path, IEnumerable<Prediction> rows, bool withVerdict) =>
        AtomicFile.WriteAllText(path, PredictionsCsv(rows, withVerdict));

    public static string MetricsCsv(IEnumerable<RunMetrics> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        var sb = new StringBuilder();
        Csv.AppendRecord(sb, MetricColumns);
        foreach (RunMetrics m in runs)
        {
            Csv.AppendRecord(sb,
            [
                m.Category, Csv.Number(m.Shots), Csv.Number(m.Seed), m.Backbone,
                .. ResultMetrics.All.Select(metric => Csv.Number(m.Of(metric) * 100)),
                Csv.Number(m.TrainSeconds, 3), Csv.Number(m.TestSeconds, 3),
            ]);
        }

        return sb.ToString();
    }

    public static void WriteMetricsCsv(string path, IEnumerable<RunMetrics> runs) => AtomicFile.WriteAllText(path, MetricsCsv(runs));

    public static void WriteMetricsJson(string path, RunMetrics run) => AtomicFile.WriteAllText(path, MetricsJson.Serialize(run));

    public static void WriteMetricsJson(string path, IEnumerable<RunMetrics> runs) => AtomicFile.WriteAllText(path, MetricsJson.Serialize(runs));
}
