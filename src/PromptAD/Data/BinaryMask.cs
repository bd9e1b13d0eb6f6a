namespace PromptAD.Data;

/// <summary>A ground-truth mask: row-major bytes, 1 = anomalous pixel, 0 = normal.</summary>
public sealed class BinaryMask
{
    public BinaryMask(int width, int height, byte[] pixels)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentNullException.ThrowIfNull(pixels);
        if (pixels.LongLength != (long)width * height)
        {
            throw new ArgumentException($"Expected {(long)width * height} mask bytes for {width}x{height}, got {pixels.LongLength}.", nameof(pixels));
        }

        foreach (byte p in pixels)
        {
            if (p > 1)
            {
                throw new ArgumentException("Mask bytes must be 0 or 1; binarize first (BinaryMask.FromValues).", nameof(pixels));
            }
        }

        Width = width;
        Height = height;
        Pixels = pixels;
    }

    public int Width { get; }

    public int Height { get; }

    /// <summary>0/1 per pixel, length Width·Height, row-major.</summary>
    public byte[] Pixels { get; }

    /// <summary>An all-normal mask (a 'good' test image).</summary>
    public static BinaryMask Empty(int width, int height) => new(width, height, new byte[checked(width * height)]);

    /// <summary>Binarizes raw mask values: anything &gt; 0 is anomalous (SPEC §7; the authors do <c>gt[gt &gt; 0] = 255</c>).</summary>
    public static BinaryMask FromValues(int width, int height, ReadOnlySpan<byte> values)
    {
        var bits = new byte[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            bits[i] = values[i] > 0 ? (byte)1 : (byte)0;
        }

        return new BinaryMask(width, height, bits);
    }

    public bool Any() => Pixels.AsSpan().IndexOf((byte)1) >= 0;

    /// <summary>
    /// Nearest-neighbour resize with source index floor(x·in/out), computed exactly in integers. This is
    /// OpenCV's INTER_NEAREST and torch's <c>interpolate(mode="nearest")</c> convention — the authors resize
    /// masks with <c>cv2.resize(..., INTER_NEAREST)</c> — not Pillow's NEAREST, which samples at pixel centres
    /// (floor((x+½)·in/out)) and picks a different row/column on non-integer ratios such as 900→400.
    /// Integer arithmetic avoids the float rounding that makes torch and OpenCV disagree on ratios like 1024→400.
    /// </summary>
    public BinaryMask ResizeNearest(int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        if (width == Width && height == Height)
        {
            return this;
        }

        var columns = new int[width];
        for (int x = 0; x < width; x++)
        {
            columns[x] = (int)((long)x * Width / width);
        }

        var result = new byte[checked(width * height)];
        for (int y = 0; y < height; y++)
        {
            int sy = (int)((long)y * Height / height);
            ReadOnlySpan<byte> row = Pixels.AsSpan(sy * Width, Width);
            Span<byte> dst = result.AsSpan(y * width, width);
            for (int x = 0; x < width; x++)
            {
                dst[x] = row[columns[x]];
            }
        }

        return new BinaryMask(width, height, result);
    }
}
