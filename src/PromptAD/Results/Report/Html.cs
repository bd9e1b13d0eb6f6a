using System.Globalization;
using PromptAD.Terminal;

namespace PromptAD.Results.Report;

/// <summary>Escaping for the reports: every name that comes from a file or folder name goes through here.</summary>
internal static class Html
{
    /// <summary>Text or an attribute value: the five characters HTML gives meaning to, escaped; the rest stays as it is
    /// (the page is UTF-8).</summary>
    public static string Text(string s)
    {
        if (s.AsSpan().IndexOfAny("&<>\"'") < 0) return s;
        var sb = new System.Text.StringBuilder(s.Length + 16);
        foreach (char c in s)
        {
            sb.Append(c switch
            {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                '\'' => "&#39;",
                _ => null,
            } ?? c.ToString());
        }

        return sb.ToString();
    }

    /// <summary>A relative link to a file: each path segment percent-encoded ('#', '?', '%' and spaces stay part of the
    /// name), then HTML-escaped for the attribute.</summary>
    public static string Href(string relativePath) =>
        Text(string.Join('/', relativePath.Replace('\\', '/').Split('/').Select(Uri.EscapeDataString)));

    /// <summary>A coordinate or size in SVG: invariant, one decimal.</summary>
    public static string N(double v) => v.ToString("0.#", CultureInfo.InvariantCulture);

    /// <summary>A percentage as the tables show it (metrics.json holds fractions ×100).</summary>
    public static string Percent(double fraction, int decimals = 1) => Fmt.F(fraction * 100, decimals);

    public static string Score(double v) => v.ToString("G4", CultureInfo.InvariantCulture);

    /// <summary>The page around a body: inline style only, nothing fetched.</summary>
    public static string Page(string title, string body) => $$"""
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{Text(title)}}</title>
        <style>
        body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em auto; max-width: 1200px; padding: 0 1em; color: #222; }
        h1 { font-size: 1.5em; margin-bottom: .2em; } h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ddd; }
        .sub { color: #666; } .warn { color: #a40; }
        table { border-collapse: collapse; margin: .5em 0; } th, td { padding: .25em .7em; border-bottom: 1px solid #eee; text-align: right; }
        th:first-child, td:first-child { text-align: left; }
        .charts { display: flex; flex-wrap: wrap; gap: 1em; }
        figure { margin: 0; } figcaption { font-size: .9em; color: #444; text-align: center; }
        svg text { font: 10px system-ui, sans-serif; fill: #444; }
        svg .axis { stroke: #888; stroke-width: 1; fill: none; } svg .grid { stroke: #eee; stroke-width: 1; }
        svg .curve { fill: none; stroke: #1565c0; stroke-width: 1.8; } svg .chance { stroke: #bbb; stroke-dasharray: 4 3; fill: none; }
        svg .limit { stroke: #999; stroke-dasharray: 2 2; } svg .threshold { stroke: #d32f2f; stroke-width: 1.5; stroke-dasharray: 5 3; }
        svg .good { fill: #78909c; fill-opacity: .55; } svg .defect { fill: #e53935; fill-opacity: .55; }
        svg .seed { fill: #1565c0; fill-opacity: .7; } svg .mean { stroke: #222; stroke-width: 2; }
        .gallery { display: flex; flex-wrap: wrap; gap: .8em; } .tile { font-size: .85em; max-width: 260px; }
        .tile img { display: block; border: 1px solid #ccc; } .tile .name { overflow-wrap: anywhere; }
        .fp { color: #a40; } .fn { color: #a40; }
        </style>
        </head>
        <body>
        {{body}}
        </body>
        </html>

        """;
}
