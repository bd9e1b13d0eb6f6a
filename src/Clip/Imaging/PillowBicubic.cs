namespace PromptAD.Clip.Imaging;

/// <summary>
/// Bicubic resize that reproduces Pillow's <c>Image.resize(size, Image.BICUBIC)</c> on 8-bit RGB
/// bit for bit (our own implementation of the algorithm in Pillow's libImaging/Resample.c).
/// </summary>
/// <remarks>
/// What has to match, and why it is done this way:
/// <list type="bullet">
/// <item>Separable convolution, horizontal pass first, vertical second; each pass rounds and clips
/// to 8 bits, so the intermediate image is uint8 exactly as in Pillow.</item>
/// <item>Cubic kernel with a = −0.5 and support 2, widened by the scale factor when shrinking
/// (that is Pillow's antialiasing); sample centres at (i + 0.5)·scale.</item>
/// <item>Weights computed in double, normalised to sum 1 per output pixel, then converted to fixed
/// point with 22 fractional bits (round half away from zero); accumulation starts at 2^21 so the
/// final arithmetic shift rounds.</item>
/// </list>
/// A pass is skipped when that dimension does not change, as Pillow does.
/// </remarks>
public static class PillowBicubic
{
    private const int PrecisionBits = 32 - 8 - 2;
    private const double Support = 2.0;

    public static RgbImage Resize(RgbImage source, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);

        bool needHorizontal = width != source.Width;
        bool needVertical = height != source.Height;
        if (!needHorizontal && !needVertical)
        {
            return new RgbImage(width, height, (byte[])source.Pixels.Clone());
        }

        Kernel horiz = Precompute(source.Width, width);
        Kernel vert = Precompute(source.Height, height);

        // Only the source rows the vertical pass reads need the horizontal pass.
        int firstRow = vert.Start[0];
        int lastRow = vert.Start[height - 1] + vert.Count[height - 1];

        byte[] temp;
        int tempRows;
        int rowOffset;
        if (needHorizontal)
        {
            tempRows = lastRow - firstRow;
            temp = new byte[checked(width * tempRows * 3)];
            HorizontalPass(source.Pixels, source.Width, firstRow, temp, width, tempRows, horiz);
            rowOffset = firstRow;
        }
        else
        {
            temp = source.Pixels;
            tempRows = source.Height;
            rowOffset = 0;
        }

        if (!needVertical)
        {
            return new RgbImage(width, height, temp);
        }

        var output = new byte[checked(width * height * 3)];
        VerticalPass(temp, width, rowOffset, output, height, vert);
        return new RgbImage(width, height, output);
    }

    /// <summary>Per output index: first input index, tap count, and ksize fixed-point weights.</summary>
    private sealed record Kernel(int[] Start, int[] Count, int[] Weights, int KSize);

    private static Kernel Precompute(int inSize, int outSize)
    {
        double scale = (double)inSize / outSize;
        double filterScale = Math.Max(scale, 1.0);
        double support = Support * filterScale;
        int ksize = (int)Math.Ceiling(support) * 2 + 1;

        var start = new int[outSize];
        var count = new int[outSize];
        var weights = new int[outSize * ksize];
        var w = new double[ksize];
        double inv = 1.0 / filterScale;
        for (int xx = 0; xx < outSize; xx++)
        {
            double center = (xx + 0.5) * scale;
            // (int) truncates toward zero like C's cast; negatives are clamped right after.
            int xmin = (int)(center - support + 0.5);
            if (xmin < 0)
            {
                xmin = 0;
            }

            int xmax = (int)(center + support + 0.5);
            if (xmax > inSize)
            {
                xmax = inSize;
            }

            xmax -= xmin;
            double sum = 0.0;
            for (int x = 0; x < xmax; x++)
            {
                double v = Cubic((x + xmin - center + 0.5) * inv);
                w[x] = v;
                sum += v;
            }

            for (int x = 0; x < xmax; x++)
            {
                double v = sum != 0.0 ? w[x] / sum : w[x];
                // Pillow rounds half away from zero when converting to fixed point.
                weights[xx * ksize + x] = v < 0
                    ? (int)(-0.5 + v * (1 << PrecisionBits))
                    : (int)(0.5 + v * (1 << PrecisionBits));
            }

            start[xx] = xmin;
            count[xx] = xmax;
        }

        return new Kernel(start, count, weights, ksize);
    }

    // Keys cubic convolution kernel with a = -0.5 (same expression order as Pillow, so same doubles).
    private static double Cubic(double x)
    {
        const double a = -0.5;
        if (x < 0.0)
        {
            x = -x;
        }

        if (x < 1.0)
        {
            return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
        }

        if (x < 2.0)
        {
            return (((x - 5) * x + 8) * x - 4) * a;
        }

        return 0.0;
    }

    private static byte Clip8(int acc)
    {
        int v = acc >> PrecisionBits; // arithmetic shift = floor, as in Pillow
        return v < 0 ? (byte)0 : v > 255 ? (byte)255 : (byte)v;
    }

    private static void HorizontalPass(byte[] src, int srcWidth, int firstRow, byte[] dst, int dstWidth, int rows, Kernel k)
    {
        Parallel.For(0, rows, y =>
        {
            int srcRow = (y + firstRow) * srcWidth * 3;
            int dstRow = y * dstWidth * 3;
            for (int xx = 0; xx < dstWidth; xx++)
            {
                int xmin = k.Start[xx];
                int n = k.Count[xx];
                int wo = xx * k.KSize;
                int r = 1 << (PrecisionBits - 1), g = r, b = r;
                for (int x = 0; x < n; x++)
                {
                    int wgt = k.Weights[wo + x];
                    int p = srcRow + (x + xmin) * 3;
                    r += src[p] * wgt;
                    g += src[p + 1] * wgt;
                    b += src[p + 2] * wgt;
                }

                int o = dstRow + xx * 3;
                dst[o] = Clip8(r);
                dst[o + 1] = Clip8(g);
                dst[o + 2] = Clip8(b);
            }
        });
    }

    private static void VerticalPass(byte[] src, int width, int rowOffset, byte[] dst, int dstHeight, Kernel k)
    {
        int stride = width * 3;
        Parallel.For(0, dstHeight, yy =>
        {
            int ymin = k.Start[yy] - rowOffset;
            int n = k.Count[yy];
            int wo = yy * k.KSize;
            int dstRow = yy * stride;
            for (int i = 0; i < stride; i++)
            {
                int acc = 1 << (PrecisionBits - 1);
                for (int y = 0; y < n; y++)
                {
                    acc += src[(y + ymin) * stride + i] * k.Weights[wo + y];
                }

                dst[dstRow + i] = Clip8(acc);
            }
        });
    }
}
