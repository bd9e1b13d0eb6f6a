using System.Globalization;

namespace PromptAD.Terminal;

/// <summary>Invariant-culture number formatting for console tables; NaN prints as "–".</summary>
internal static class Fmt
{
    public static string I(int v) => v.ToString(CultureInfo.InvariantCulture);

    public static string F(double v, int digits) => double.IsNaN(v) ? "–" : v.ToString("F" + I(digits), CultureInfo.InvariantCulture);
}
