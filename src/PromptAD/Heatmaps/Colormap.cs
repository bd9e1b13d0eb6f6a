namespace PromptAD.Heatmaps;

/// <summary>A jet-like colormap (dark blue → cyan → yellow → dark red), the usual one for anomaly maps.</summary>
public static class Colormap
{
    /// <summary>
    /// Piecewise-linear jet: each channel is clamp(1.5 − |4t − c|) with c = 3 (red), 2 (green), 1 (blue), which is
    /// matplotlib's "jet" to within a few levels. <paramref name="t"/> is clamped to [0, 1]; NaN maps to 0.
    /// </summary>
    public static (byte R, byte G, byte B) Jet(float t)
    {
        t = float.IsNaN(t) ? 0 : Math.Clamp(t, 0f, 1f);
        return (Channel(t, 3), Channel(t, 2), Channel(t, 1));
    }

    private static byte Channel(float t, float centre) =>
        (byte)MathF.Round(255f * Math.Clamp(1.5f - MathF.Abs(4f * t - centre), 0f, 1f));
}
