using System.Globalization;
using System.Text;

namespace PromptAD.Serving;

/// <summary>
/// The pieces of the Prometheus text exposition format (version 0.0.4) that the service's /metrics needs: counters and
/// gauges by label set, and histograms with fixed buckets. Thread-safe; values render in invariant culture.
/// </summary>
internal static class Prometheus
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>A label value with backslash, double quote and newline escaped, as the format requires.</summary>
    public static string Label(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal)
        .Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    public static string Number(double v) =>
        double.IsPositiveInfinity(v) ? "+Inf" : double.IsNegativeInfinity(v) ? "-Inf" : double.IsNaN(v) ? "NaN" : v.ToString("R", CultureInfo.InvariantCulture);

    public static void Header(StringBuilder sb, string name, string type, string help) =>
        sb.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n').Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');

    public static void Sample(StringBuilder sb, string name, string labels, double value) =>
        sb.Append(name).Append(labels.Length == 0 ? "" : "{" + labels + "}").Append(' ').Append(Number(value)).Append('\n');

    /// <summary>A counter by label set (the labels already rendered, e.g. <c>status="200"</c>).</summary>
    public sealed class Counter(string name, string help)
    {
        private readonly SortedDictionary<string, double> _values = new(StringComparer.Ordinal);

        public void Add(string labels, double by = 1)
        {
            lock (_values) _values[labels] = _values.GetValueOrDefault(labels) + by;
        }

        public double Get(string labels)
        {
            lock (_values) return _values.GetValueOrDefault(labels);
        }

        public void Render(StringBuilder sb)
        {
            Header(sb, name, "counter", help);
            lock (_values) foreach (var (labels, v) in _values) Sample(sb, name, labels, v);
        }
    }

    /// <summary>A histogram with cumulative buckets (upper bounds ascending; +Inf added).</summary>
    public sealed class Histogram(string name, string help, double[] bounds)
    {
        private readonly long[] _counts = new long[bounds.Length + 1];
        private double _sum;
        private long _count;

        public void Observe(double value)
        {
            lock (_counts)
            {
                int i = 0;
                while (i < bounds.Length && value > bounds[i]) i++;
                _counts[i]++;
                _sum += value;
                _count++;
            }
        }

        public void Render(StringBuilder sb, string labels = "")
        {
            string prefix = labels.Length == 0 ? "" : labels + ",";
            Header(sb, name, "histogram", help);
            lock (_counts)
            {
                long cumulative = 0;
                for (int i = 0; i < bounds.Length; i++)
                {
                    cumulative += _counts[i];
                    Sample(sb, name + "_bucket", $"{prefix}le=\"{Number(bounds[i])}\"", cumulative);
                }

                Sample(sb, name + "_bucket", $"{prefix}le=\"+Inf\"", _count);
                Sample(sb, name + "_sum", labels, _sum);
                Sample(sb, name + "_count", labels, _count);
            }
        }
    }
}
