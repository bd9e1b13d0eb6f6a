using PromptAD.Clip.Imaging;
using PromptAD.Data;
using PromptAD.Files;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace PromptAD.Heatmaps;

/// <summary>
/// Renders one test image's result as a PNG: on the left the image (resized to the map size) with the jet-coloured
/// anomaly map blended over it at alpha 0.5; on the right the ground-truth mask (white on black), or a grey panel
/// crossed out when there is no mask (a 'good' image, or a defect without a mask file). Under the overlay runs a
/// colorbar of the value range with a white tick at this image's map maximum; there is no text (no font library).
/// </summary>
/// <remarks>
/// Normalization uses a fixed range from the caller, t = (v − min)/(max − min) clamped to [0, 1], not each map's own
/// min/max: with a shared range (e.g. <see cref="RangeOf"/> over the whole test set) a normal image stays blue and
/// colours compare across images; per-map normalization would paint every image's strongest noise red.
/// </remarks>
public static class HeatmapRenderer
{
    /// <summary>Pixels between the two panels and above the colorbar.</summary>
    public const int Gap = 8;

    public const int ColorbarHeight = 12;

    private static readonly Rgb24 Background = new(32, 32, 32);
    private static readonly Rgb24 NoMaskFill = new(96, 96, 96);
    private static readonly Rgb24 NoMaskCross = new(160, 160, 160);

    /// <summary>Min and max over maps, ignoring NaN; (0, 1) when there are no values.</summary>
    public static (float Min, float Max) RangeOf(IEnumerable<float[]> maps)
    {
        ArgumentNullException.ThrowIfNull(maps);
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        foreach (float[] map in maps)
        {
            foreach (float v in map)
            {
                if (!float.IsNaN(v))
                {
                    min = Math.Min(min, v);
                    max = Math.Max(max, v);
                }
            }
        }

        return float.IsFinite(min) && float.IsFinite(max) ? (min, max) : (0f, 1f);
    }

    /// <summary>Total PNG width for overlays <paramref name="width"/> wide.</summary>
    public static int WidthFor(int width, bool maskPanel = true) => maskPanel ? 2 * width + Gap : width;

    public static int HeightFor(int height) => height + Gap + ColorbarHeight;

    /// <summary>
    /// The overlay's size for an image of <paramref name="imageWidth"/>×<paramref name="imageHeight"/>: the image's own
    /// proportions, its longest side <paramref name="longest"/> (e.g. 1024×768 at 400 → 400×300), so the heatmap lines
    /// up with the photo although the map was computed on the square (squashed) input.
    /// </summary>
    public static (int Width, int Height) OverlaySize(int imageWidth, int imageHeight, int longest)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(imageWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(imageHeight);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(longest);
        int Short(int small, int large) => (int)Math.Max(1, Math.Round((double)longest * small / large, MidpointRounding.AwayFromZero));
        return imageWidth >= imageHeight ? (longest, Short(imageHeight, imageWidth)) : (Short(imageWidth, imageHeight), longest);
    }

    /// <param name="image">The test image at its own resolution.</param>
    /// <param name="map">Row-major size×size anomaly map (e.g. <c>ImageScore.PixelMap</c>).</param>
    /// <param name="mask">Ground truth at any resolution (resized nearest-neighbour), or null for "no mask".</param>
    public static byte[] RenderPng(RgbImage image, float[] map, int size, BinaryMask? mask, float min, float max)
    {
        using var stream = new MemoryStream();
        Render(image, map, size, size, mask, min, max, stream, maskPanel: true);
        return stream.ToArray();
    }

    /// <summary>Renders a square overlay and writes it atomically (<see cref="AtomicFile"/>).</summary>
    /// <param name="maskPanel">False for images without ground truth at all (predict): the overlay and colorbar only.</param>
    public static void Write(string path, RgbImage image, float[] map, int size, BinaryMask? mask, float min, float max, bool maskPanel = true) =>
        Write(path, image, map, size, size, mask, min, max, maskPanel);

    /// <summary>Renders a <paramref name="width"/>×<paramref name="height"/> overlay (the map already at that size) and writes it atomically.</summary>
    public static void Write(string path, RgbImage image, float[] map, int width, int height, BinaryMask? mask, float min, float max, bool maskPanel) =>
        AtomicFile.Write(path, stream => Render(image, map, width, height, mask, min, max, stream, maskPanel));

    private static void Render(RgbImage image, float[] map, int width, int height, BinaryMask? mask, float min, float max, Stream output, bool maskPanel)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(map);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        if (map.LongLength != (long)width * height)
        {
            throw new ArgumentException($"Expected a {width}×{height} map ({(long)width * height} values), got {map.LongLength}.", nameof(map));
        }

        if (!(max > min))
        {
            // A degenerate range (constant maps): everything maps to t = 0 instead of dividing by zero.
            max = min + 1;
        }

        using Image<Rgb24> photo = Image.LoadPixelData<Rgb24>(image.Pixels, image.Width, image.Height);
        if (photo.Width != width || photo.Height != height)
        {
            photo.Mutate(x => x.Resize(width, height, KnownResamplers.Bicubic));
        }

        using var canvas = new Image<Rgb24>(WidthFor(width, maskPanel), HeightFor(height), Background);
        BinaryMask? gt = mask?.ResizeNearest(width, height);
        float range = max - min;
        float mapMax = float.NegativeInfinity;
        foreach (float v in map)
        {
            mapMax = float.IsNaN(v) ? mapMax : Math.Max(mapMax, v);
        }

        canvas.ProcessPixelRows(photo, (dst, src) =>
        {
            for (int y = 0; y < height; y++)
            {
                Span<Rgb24> row = dst.GetRowSpan(y);
                Span<Rgb24> photoRow = src.GetRowSpan(y);
                for (int x = 0; x < width; x++)
                {
                    (byte r, byte g, byte b) = Colormap.Jet((map[y * width + x] - min) / range);
                    Rgb24 p = photoRow[x];
                    row[x] = new Rgb24(Blend(p.R, r), Blend(p.G, g), Blend(p.B, b));
                    if (maskPanel) row[width + Gap + x] = gt is null ? NoMask(x, y, width, height) : gt.Pixels[y * width + x] != 0 ? new Rgb24(255, 255, 255) : new Rgb24(0, 0, 0);
                }
            }

            // Colorbar under the overlay: left = min, right = max; a white tick marks this map's maximum.
            int tick = float.IsFinite(mapMax) ? (int)MathF.Round(Math.Clamp((mapMax - min) / range, 0f, 1f) * (width - 1)) : -1;
            for (int y = height + Gap; y < height + Gap + ColorbarHeight; y++)
            {
                Span<Rgb24> row = dst.GetRowSpan(y);
                for (int x = 0; x < width; x++)
                {
                    (byte r, byte g, byte b) = Colormap.Jet(width == 1 ? 0 : x / (float)(width - 1));
                    row[x] = Math.Abs(x - tick) <= 1 ? new Rgb24(255, 255, 255) : new Rgb24(r, g, b);
                }
            }
        });

        canvas.Save(output, new PngEncoder { ColorType = PngColorType.Rgb, BitDepth = PngBitDepth.Bit8 });
    }

    /// <summary>Equal-weight blend, rounded half up: (a + b + 1) / 2.</summary>
    private static byte Blend(byte photo, byte colour) => (byte)((photo + colour + 1) >> 1);

    private static Rgb24 NoMask(int x, int y, int width, int height)
    {
        // A grey panel with an X corner to corner: visibly "no ground truth", not to be confused with an all-black
        // (empty) mask. Distance to each diagonal, measured along the panel's longer side.
        int longest = Math.Max(width, height);
        int thickness = Math.Max(1, longest / 100);
        long w1 = Math.Max(1, width - 1), h1 = Math.Max(1, height - 1), scale = Math.Max(w1, h1);
        long down = Math.Abs(x * h1 - y * w1), up = Math.Abs(x * h1 + y * w1 - w1 * h1);
        return down < thickness * scale || up < thickness * scale ? NoMaskCross : NoMaskFill;
    }
}
