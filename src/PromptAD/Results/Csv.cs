using System.Globalization;
using System.Text;

namespace PromptAD.Results;

/// <summary>RFC 4180 CSV: fields with a comma, quote, CR or LF are quoted, quotes doubled; records end with CRLF.</summary>
public static class Csv
{
    public static string Escape(string field)
    {
        ArgumentNullException.ThrowIfNull(field);
        if (field.AsSpan().IndexOfAny(",\"\r\n") < 0)
        {
            return field;
        }

        return "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
    }

    public static void AppendRecord(StringBuilder sb, IEnumerable<string> fields)
    {
        bool first = true;
        foreach (string f in fields)
        {
            if (!first)
            {
                sb.Append(',');
            }

            sb.Append(Escape(f));
            first = false;
        }

        sb.Append("\r\n");
    }

    /// <summary>Invariant round-trip formatting; NaN (a metric that could not be computed) is an empty field.</summary>
    public static string Number(double value) =>
        double.IsNaN(value) ? string.Empty : value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Fixed decimals, invariant culture; NaN is an empty field.</summary>
    public static string Number(double value, int decimals) =>
        double.IsNaN(value) ? string.Empty : value.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
}
