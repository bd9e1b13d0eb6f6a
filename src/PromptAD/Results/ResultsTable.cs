using System.Globalization;
using System.Text;
using PromptAD.Evaluation;
using PromptAD.Files;

namespace PromptAD.Results;

/// <summary>
/// The paper-style results table of <c>promptad run</c>: one row per category, one column per shot count, each cell
/// "mean ± std" over seeds (×100, one decimal), then a mean row.
/// </summary>
/// <remarks>
/// Std is the population std (ddof = 0, NumPy's default), see <see cref="Stats.PopulationStd"/>. The mean row is the
/// mean ± std over seeds of the per-seed category means (how "mean over categories, 5 seeds" is usually reported);
/// with every category run for every seed its mean equals the mean of the category means. A cell with no value
/// (shot count not run, or metric not computed) shows "–" in Markdown and is empty in CSV.
/// </remarks>
public static class ResultsTable
{
    public const string MeanRowName = "mean";

    /// <summary>One cell: mean and std ×100, and the number of seeds behind them (0 = no value).</summary>
    public readonly record struct Cell(double Mean, double Std, int Seeds);

    public sealed record Table(ResultMetric Metric, IReadOnlyList<int> Shots, IReadOnlyList<string> Categories, Cell[,] Cells)
    {
        /// <summary>Rows: categories in the order given, then the mean row (index <c>Categories.Count</c>).</summary>
        public Cell this[int row, int shotIndex] => Cells[row, shotIndex];
    }

    public static Table Build(IEnumerable<RunMetrics> runs, ResultMetric metric)
    {
        ArgumentNullException.ThrowIfNull(runs);
        List<RunMetrics> all = [.. runs];

        // Categories keep their first-seen order (the order the run processed them); shot counts ascend.
        List<string> categories = [.. all.Select(r => r.Category).Distinct(StringComparer.Ordinal)];
        List<int> shots = [.. all.Select(r => r.Shots).Distinct().Order()];
        var cells = new Cell[categories.Count + 1, shots.Count];
        for (int s = 0; s < shots.Count; s++)
        {
            for (int c = 0; c < categories.Count; c++)
            {
                double[] values = [.. all.Where(r => r.Shots == shots[s] && r.Category == categories[c])
                    .Select(r => r.Of(metric) * 100).Where(v => !double.IsNaN(v))];
                cells[c, s] = Summarize(values);
            }

            double[] seedMeans = [.. all.Where(r => r.Shots == shots[s]).GroupBy(r => r.Seed).OrderBy(g => g.Key)
                .Select(g => Stats.Mean(g.Select(r => r.Of(metric) * 100))).Where(v => !double.IsNaN(v))];
            cells[categories.Count, s] = Summarize(seedMeans);
        }

        return new Table(metric, shots, categories, cells);
    }

    /// <summary>One Markdown section per metric ("### Image AUROC" then a pipe table).</summary>
    public static string Markdown(IEnumerable<RunMetrics> runs, IEnumerable<ResultMetric>? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(runs);
        List<RunMetrics> all = [.. runs];
        var sb = new StringBuilder();
        foreach (ResultMetric metric in metrics ?? ResultMetrics.All)
        {
            Table t = Build(all, metric);
            if (sb.Length > 0)
            {
                sb.Append('\n');
            }

            sb.Append("### ").Append(metric.Title()).Append('\n').Append('\n');
            sb.Append("| category |");
            foreach (int k in t.Shots)
            {
                sb.Append(' ').Append(k.ToString(CultureInfo.InvariantCulture)).Append("-shot |");
            }

            sb.Append('\n').Append("|---|");
            foreach (int _ in t.Shots)
            {
                sb.Append("---:|");
            }

            sb.Append('\n');
            for (int row = 0; row <= t.Categories.Count; row++)
            {
                string name = row < t.Categories.Count ? EscapeMarkdown(t.Categories[row]) : "**" + MeanRowName + "**";
                sb.Append("| ").Append(name).Append(" |");
                for (int s = 0; s < t.Shots.Count; s++)
                {
                    sb.Append(' ').Append(FormatCell(t[row, s])).Append(" |");
                }

                sb.Append('\n');
            }
        }

        return sb.ToString();
    }

    /// <summary>
    /// Long-form CSV of every metric's table: metric, category, then per shot count k the columns
    /// <c>k{k}_mean</c>, <c>k{k}_std</c>, <c>k{k}_seeds</c> (full precision, ×100).
    /// </summary>
    public static string Csv(IEnumerable<RunMetrics> runs, IEnumerable<ResultMetric>? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(runs);
        List<RunMetrics> all = [.. runs];
        List<int> shots = [.. all.Select(r => r.Shots).Distinct().Order()];
        var sb = new StringBuilder();
        List<string> header = ["metric", "category"];
        foreach (int k in shots)
        {
            string p = "k" + k.ToString(CultureInfo.InvariantCulture);
            header.AddRange([p + "_mean", p + "_std", p + "_seeds"]);
        }

        Results.Csv.AppendRecord(sb, header);
        foreach (ResultMetric metric in metrics ?? ResultMetrics.All)
        {
            Table t = Build(all, metric);
            for (int row = 0; row <= t.Categories.Count; row++)
            {
                List<string> fields = [metric.Key(), row < t.Categories.Count ? t.Categories[row] : MeanRowName];
                for (int s = 0; s < t.Shots.Count; s++)
                {
                    Cell cell = t[row, s];
                    fields.AddRange([Results.Csv.Number(cell.Mean), Results.Csv.Number(cell.Std), cell.Seeds.ToString(CultureInfo.InvariantCulture)]);
                }

                Results.Csv.AppendRecord(sb, fields);
            }
        }

        return sb.ToString();
    }

    public static void WriteMarkdown(string path, IEnumerable<RunMetrics> runs) => AtomicFile.WriteAllText(path, Markdown(runs));

    public static void WriteCsv(string path, IEnumerable<RunMetrics> runs) => AtomicFile.WriteAllText(path, Csv(runs));

    /// <summary>"96.6 ± 0.4"; one seed shows the mean alone; no value shows "–".</summary>
    public static string FormatCell(Cell cell)
    {
        if (cell.Seeds == 0)
        {
            return "–";
        }

        string mean = cell.Mean.ToString("F1", CultureInfo.InvariantCulture);
        return cell.Seeds == 1 ? mean : mean + " ± " + cell.Std.ToString("F1", CultureInfo.InvariantCulture);
    }

    private static Cell Summarize(double[] values) =>
        values.Length == 0 ? new Cell(double.NaN, double.NaN, 0) : new Cell(Stats.Mean(values), Stats.PopulationStd(values), values.Length);

    private static string EscapeMarkdown(string s) => s.Replace("|", "\\|", StringComparison.Ordinal);
}
