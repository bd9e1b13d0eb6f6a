namespace PromptAD.Heatmaps;

/// <summary>
/// Resizes a score map (row-major floats) with bilinear interpolation at pixel centres — source coordinate
/// (x + ½)·in/out − ½, clamped to the edge — as OpenCV's INTER_LINEAR and torch's <c>interpolate(mode="bilinear",
/// align_corners=False)</c> do. Scores keep their meaning: every output value lies between its four source values.
/// </summary>
public static class MapResize
{
    public static float[] Bilinear(float[] map, int width, int height, int outWidth, int outHeight)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outHeight);
        if (map.LongLength != (long)width * height)
        {
            throw new ArgumentException($"Expected a {width}×{height} map ({(long)width * height} values), got {map.LongLength}.", nameof(map));
        }

        if (width == outWidth && height == outHeight)
        {
            return (float[])map.Clone();
        }

        var (x0, x1, fx) = Taps(width, outWidth);
        var (y0, y1, fy) = Taps(height, outHeight);
        var result = new float[checked(outWidth * outHeight)];
        for (int y = 0; y < outHeight; y++)
        {
            int r0 = y0[y] * width, r1 = y1[y] * width;
            double wy = fy[y];
            for (int x = 0; x < outWidth; x++)
            {
                double top = map[r0 + x0[x]] + (map[r0 + x1[x]] - (double)map[r0 + x0[x]]) * fx[x];
                double bottom = map[r1 + x0[x]] + (map[r1 + x1[x]] - (double)map[r1 + x0[x]]) * fx[x];
                result[y * outWidth + x] = (float)(top + (bottom - top) * wy);
            }
        }

        return result;
    }

    /// <summary>For each output index: the two source indices and the weight of the second.</summary>
    private static (int[] Lo, int[] Hi, double[] Frac) Taps(int inSize, int outSize)
    {
        var lo = new int[outSize];
        var hi = new int[outSize];
        var frac = new double[outSize];
        double scale = (double)inSize / outSize;
        for (int i = 0; i < outSize; i++)
        {
            double s = Math.Clamp((i + 0.5) * scale - 0.5, 0, inSize - 1);
            lo[i] = (int)Math.Floor(s);
            hi[i] = Math.Min(lo[i] + 1, inSize - 1);
            frac[i] = s - lo[i];
        }

        return (lo, hi, frac);
    }
}
