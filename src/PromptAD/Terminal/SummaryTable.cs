using System.Globalization;
using System.Text;

namespace PromptAD.Terminal;

/// <summary>
/// A plain-text table printed at the end of a verb: columns padded to their widest cell, numbers right-aligned
/// (a cell that parses as a number, or is "–"/"-"), text left-aligned, a dashed rule under the header.
/// </summary>
public sealed class SummaryTable
{
    private readonly List<string[]> rows = [];

    public SummaryTable(params string[] headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        if (headers.Length == 0)
        {
            throw new ArgumentException("A table needs at least one column.", nameof(headers));
        }

        Headers = headers;
    }

    public IReadOnlyList<string> Headers { get; }

    public int RowCount => rows.Count;

    /// <summary>Adds a row; missing trailing cells are empty, extra cells are an error.</summary>
    public void AddRow(params string[] cells)
    {
        ArgumentNullException.ThrowIfNull(cells);
        if (cells.Length > Headers.Count)
        {
            throw new ArgumentException($"Row has {cells.Length} cells, the table {Headers.Count} columns.", nameof(cells));
        }

        var row = new string[Headers.Count];
        for (int i = 0; i < row.Length; i++)
        {
            row[i] = i < cells.Length ? cells[i] ?? string.Empty : string.Empty;
        }

        rows.Add(row);
    }

    public string Render()
    {
        int n = Headers.Count;
        var widths = new int[n];
        var numeric = new bool[n];
        for (int c = 0; c < n; c++)
        {
            widths[c] = Headers[c].Length;
            numeric[c] = rows.Count > 0;
            foreach (string[] row in rows)
            {
                widths[c] = Math.Max(widths[c], row[c].Length);
                numeric[c] &= IsNumeric(row[c]);
            }
        }

        var sb = new StringBuilder();
        AppendLine(sb, [.. Headers], widths, numeric);
        AppendLine(sb, [.. widths.Select(w => new string('-', w))], widths, numeric);
        foreach (string[] row in rows)
        {
            AppendLine(sb, row, widths, numeric);
        }

        return sb.ToString();
    }

    public void Write(TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(Render());
    }

    public override string ToString() => Render();

    private static void AppendLine(StringBuilder sb, string[] cells, int[] widths, bool[] numeric)
    {
        for (int c = 0; c < cells.Length; c++)
        {
            if (c > 0)
            {
                sb.Append("  ");
            }

            bool last = c == cells.Length - 1;
            sb.Append(numeric[c] ? cells[c].PadLeft(widths[c]) : last ? cells[c] : cells[c].PadRight(widths[c]));
        }

        sb.Append('\n');
    }

    private static bool IsNumeric(string cell)
    {
        if (cell is "" or "–" or "-")
        {
            return true;
        }

        // "96.6 ± 0.4", "12.3%", "4.1s" count as numbers for alignment.
        string head = cell.Split(' ')[0].TrimEnd('%', 's');
        return double.TryParse(head, NumberStyles.Float, CultureInfo.InvariantCulture, out _);
    }
}
