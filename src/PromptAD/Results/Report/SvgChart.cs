using System.Text;
using PromptAD.Evaluation;
using PromptAD.Terminal;

namespace PromptAD.Results.Report;

/// <summary>
/// Small inline SVG charts for the reports, drawn here (no script, nothing fetched): a curve on [0, xMax]×[0, 1]
/// axes, a histogram pair, a dot plot of seeds. Each curve is one &lt;path class="curve"&gt;.
/// </summary>
internal static class SvgChart
{
    private const double Width = 280, Height = 230, Left = 40, Right = 18, Top = 10, Bottom = 34;
    private const double PlotW = Width - Left - Right, PlotH = Height - Top - Bottom;

    /// <param name="points">(x, y) with x in [0, xMax], y in [0, 1].</param>
    /// <param name="chance">A dashed diagonal (ROC) or horizontal line at this y (PR: the share of positives); null for none.</param>
    /// <param name="chanceIsDiagonal">True: the line y = x/xMax.</param>
    public static string Curve(string id, IReadOnlyList<CurvePoint> points, string xLabel, string yLabel, double xMax = 1,
        double? chance = null, bool chanceIsDiagonal = false)
    {
        var sb = Open(id);
        Axes(sb, xLabel, yLabel, xMax, 1);
        double X(double x) => Left + PlotW * Math.Clamp(x / xMax, 0, 1);
        double Y(double y) => Top + PlotH * (1 - Math.Clamp(y, 0, 1));
        if (chanceIsDiagonal) sb.Append($"<line class=\"chance\" x1=\"{Html.N(X(0))}\" y1=\"{Html.N(Y(0))}\" x2=\"{Html.N(X(xMax))}\" y2=\"{Html.N(Y(1))}\"/>");
        else if (chance is { } c) sb.Append($"<line class=\"chance\" x1=\"{Html.N(X(0))}\" y1=\"{Html.N(Y(c))}\" x2=\"{Html.N(X(xMax))}\" y2=\"{Html.N(Y(c))}\"/>");
        sb.Append("<path class=\"curve\" d=\"");
        for (int i = 0; i < points.Count; i++)
        {
            sb.Append(i == 0 ? 'M' : 'L').Append(Html.N(X(points[i].X))).Append(',').Append(Html.N(Y(points[i].Y))).Append(' ');
        }

        sb.Append("\"/>");
        return Close(sb);
    }

    /// <summary>Counts of good and of defective scores in <paramref name="bins"/> equal bins over [lo, hi], overlaid,
    /// with the threshold as a dashed vertical line.</summary>
    public static string Histogram(string id, IReadOnlyList<double> good, IReadOnlyList<double> defect, double lo, double hi, int bins, double threshold)
    {
        if (!(hi > lo)) hi = lo + 1;
        int[] Count(IReadOnlyList<double> values)
        {
            var counts = new int[bins];
            foreach (double v in values) counts[Math.Clamp((int)((v - lo) / (hi - lo) * bins), 0, bins - 1)]++;
            return counts;
        }

        int[] g = Count(good), d = Count(defect);
        int top = Math.Max(1, Math.Max(g.Max(), d.Max()));
        var sb = Open(id);
        Axes(sb, "image score", "images", 1, top, lo, hi);
        double barW = PlotW / bins;
        void Bars(int[] counts, string cls)
        {
            for (int b = 0; b < bins; b++)
            {
                if (counts[b] == 0) continue;
                double h = PlotH * counts[b] / top;
                sb.Append($"<rect class=\"{cls}\" x=\"{Html.N(Left + b * barW + 0.5)}\" y=\"{Html.N(Top + PlotH - h)}\" width=\"{Html.N(barW - 1)}\" height=\"{Html.N(h)}\"><title>{counts[b]}</title></rect>");
            }
        }

        Bars(g, "good");
        Bars(d, "defect");
        double tx = Left + PlotW * Math.Clamp((threshold - lo) / (hi - lo), 0, 1);
        sb.Append($"<line class=\"threshold\" x1=\"{Html.N(tx)}\" y1=\"{Html.N(Top)}\" x2=\"{Html.N(tx)}\" y2=\"{Html.N(Top + PlotH)}\"><title>threshold {Html.Score(threshold)}</title></line>");
        return Close(sb);
    }

    /// <summary>One column per shot count: a dot per seed's value (0–100) and a bar at their mean.</summary>
    public static string Seeds(string id, IReadOnlyList<int> shots, Func<int, IReadOnlyList<double>> valuesOf, string yLabel)
    {
        var all = shots.SelectMany(valuesOf).Where(double.IsFinite).ToList();
        double lo = all.Count == 0 ? 0 : Math.Floor(all.Min() / 5) * 5, hi = all.Count == 0 ? 100 : Math.Min(100, Math.Ceiling(all.Max() / 5) * 5);
        if (hi <= lo) hi = lo + 5;
        var sb = Open(id);
        Axes(sb, "shots (k)", yLabel, 1, hi - lo, lo, lo, categories: [.. shots.Select(k => k.ToString(System.Globalization.CultureInfo.InvariantCulture))], yOffset: lo);
        double colW = PlotW / Math.Max(1, shots.Count);
        for (int s = 0; s < shots.Count; s++)
        {
            var values = valuesOf(shots[s]).Where(double.IsFinite).ToList();
            double cx = Left + colW * (s + 0.5);
            double Y(double v) => Top + PlotH * (1 - (v - lo) / (hi - lo));
            for (int i = 0; i < values.Count; i++)
            {
                double jitter = values.Count == 1 ? 0 : (i - (values.Count - 1) / 2.0) * Math.Min(6, colW / 2 / values.Count);
                sb.Append($"<circle class=\"seed\" cx=\"{Html.N(cx + jitter)}\" cy=\"{Html.N(Y(values[i]))}\" r=\"3\"><title>{Fmt.F(values[i], 1)}</title></circle>");
            }

            if (values.Count > 0)
            {
                double m = values.Average();
                sb.Append($"<line class=\"mean\" x1=\"{Html.N(cx - colW / 4)}\" y1=\"{Html.N(Y(m))}\" x2=\"{Html.N(cx + colW / 4)}\" y2=\"{Html.N(Y(m))}\"/>");
            }
        }

        return Close(sb);
    }

    private static StringBuilder Open(string id) =>
        new StringBuilder().Append($"<svg id=\"{Html.Text(id)}\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{Html.N(Width)}\" height=\"{Html.N(Height)}\" viewBox=\"0 0 {Html.N(Width)} {Html.N(Height)}\" role=\"img\">");

    private static string Close(StringBuilder sb) => sb.Append("</svg>").ToString();

    /// <summary>Frame, grid and tick labels: x over [xFrom, xTo] (or category names), y over [yOffset, yOffset + yMax].</summary>
    private static void Axes(StringBuilder sb, string xLabel, string yLabel, double xMax, double yMax, double xFrom = 0, double? xTo = null,
        IReadOnlyList<string>? categories = null, double yOffset = 0)
    {
        double xEnd = xTo ?? xMax;
        for (int i = 0; i <= 4; i++)
        {
            double y = Top + PlotH * (1 - i / 4.0);
            sb.Append($"<line class=\"grid\" x1=\"{Html.N(Left)}\" y1=\"{Html.N(y)}\" x2=\"{Html.N(Left + PlotW)}\" y2=\"{Html.N(y)}\"/>");
            sb.Append($"<text x=\"{Html.N(Left - 4)}\" y=\"{Html.N(y + 3)}\" text-anchor=\"end\">{Tick(yOffset + yMax * i / 4)}</text>");
            if (categories is null)
            {
                double x = Left + PlotW * i / 4.0;
                sb.Append($"<text x=\"{Html.N(x)}\" y=\"{Html.N(Top + PlotH + 13)}\" text-anchor=\"middle\">{Tick(xFrom + (xEnd - xFrom) * i / 4)}</text>");
            }
        }

        if (categories is not null)
        {
            double colW = PlotW / Math.Max(1, categories.Count);
            for (int i = 0; i < categories.Count; i++)
                sb.Append($"<text x=\"{Html.N(Left + colW * (i + 0.5))}\" y=\"{Html.N(Top + PlotH + 13)}\" text-anchor=\"middle\">{Html.Text(categories[i])}</text>");
        }

        sb.Append($"<rect class=\"axis\" x=\"{Html.N(Left)}\" y=\"{Html.N(Top)}\" width=\"{Html.N(PlotW)}\" height=\"{Html.N(PlotH)}\"/>");
        sb.Append($"<text x=\"{Html.N(Left + PlotW / 2)}\" y=\"{Html.N(Height - 4)}\" text-anchor=\"middle\">{Html.Text(xLabel)}</text>");
        sb.Append($"<text transform=\"translate(10 {Html.N(Top + PlotH / 2)}) rotate(-90)\" text-anchor=\"middle\">{Html.Text(yLabel)}</text>");
    }

    private static string Tick(double v) => Math.Abs(v) >= 100 || v == Math.Round(v) ? Html.N(Math.Round(v)) : Html.Score(Math.Round(v, 3));
}
