using System.Globalization;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;
using PromptAD.Files;

namespace PromptAD.Data;

/// <summary>
/// Generates a tiny MVTec-layout dataset for <c>promptad demo</c> (no download needed): category "widget" with
/// 8 <c>train/good</c>, 4 <c>test/good</c> and 4 <c>test/scratch</c> images plus <c>ground_truth/scratch/*_mask.png</c>.
/// Images are a brushed-metal-like texture (gradient, stripes, noise); a scratch is a dark line segment whose
/// pixels are exactly its mask. Deterministic for a given seed (System.Random with a seed is a fixed algorithm).
/// </summary>
/// <remarks>Existing files with the same names are overwritten (atomically); other files in the folder are left alone.</remarks>
public static class SyntheticDataset
{
    public const string Category = "widget";
    public const string DefectType = "scratch";
    public const int TrainCount = 8;
    public const int TestGoodCount = 4;
    public const int TestDefectCount = 4;
    public const int DefaultSize = 96;

    /// <summary>Writes the dataset under <paramref name="root"/> and returns the category folder (<c>root/widget</c>).</summary>
    public static string Generate(string root, int seed = 0, int size = DefaultSize)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 16);
        string dir = Path.Combine(Path.GetFullPath(root), Category);
        var random = new Random(seed);

        for (int i = 0; i < TrainCount; i++)
        {
            WritePng(Path.Combine(dir, "train", AnomalyDataset.GoodFolder, Name(i)), Texture(random, size), size);
        }

        for (int i = 0; i < TestGoodCount; i++)
        {
            WritePng(Path.Combine(dir, "test", AnomalyDataset.GoodFolder, Name(i)), Texture(random, size), size);
        }

        for (int i = 0; i < TestDefectCount; i++)
        {
            byte[] rgb = Texture(random, size);
            byte[] mask = Scratch(random, size);
            for (int p = 0; p < mask.Length; p++)
            {
                if (mask[p] != 0)
                {
                    rgb[3 * p] = 35;
                    rgb[3 * p + 1] = 30;
                    rgb[3 * p + 2] = 28;
                }
            }

            WritePng(Path.Combine(dir, "test", DefectType, Name(i)), rgb, size);
            var maskRgb = new byte[3 * mask.Length];
            for (int p = 0; p < mask.Length; p++)
            {
                maskRgb[3 * p] = maskRgb[3 * p + 1] = maskRgb[3 * p + 2] = mask[p];
            }

            WritePng(Path.Combine(dir, "ground_truth", DefectType, Path.GetFileNameWithoutExtension(Name(i)) + "_mask.png"), maskRgb, size);
        }

        return dir;
    }

    private static string Name(int i) => i.ToString("000", CultureInfo.InvariantCulture) + ".png";

    /// <summary>Grey-blue gradient with fine horizontal stripes and per-pixel noise; phase and tint vary per image.</summary>
    private static byte[] Texture(Random random, int size)
    {
        var rgb = new byte[3 * size * size];
        double phase = random.NextDouble() * Math.Tau;
        double tint = random.NextDouble() * 10 - 5;
        for (int y = 0; y < size; y++)
        {
            for (int x = 0; x < size; x++)
            {
                double v = 120 + 40.0 * x / size + 12 * Math.Sin(y * 0.9 + phase) + tint + (random.NextDouble() - 0.5) * 16;
                int p = 3 * (y * size + x);
                rgb[p] = Clamp(v);
                rgb[p + 1] = Clamp(v + 6);
                rgb[p + 2] = Clamp(v + 14);
            }
        }

        return rgb;
    }

    /// <summary>A 255/0 mask of a line segment about 3 px wide and 30–60 % of the image long, inside the image.</summary>
    private static byte[] Scratch(Random random, int size)
    {
        double margin = size * 0.15;
        double x0 = margin + random.NextDouble() * (size - 2 * margin);
        double y0 = margin + random.NextDouble() * (size - 2 * margin);
        double angle = random.NextDouble() * Math.PI;
        double length = size * (0.3 + 0.3 * random.NextDouble());
        double x1 = Math.Clamp(x0 + Math.Cos(angle) * length, 1, size - 2);
        double y1 = Math.Clamp(y0 + Math.Sin(angle) * length, 1, size - 2);
        double halfWidth = Math.Max(1.5, size / 64.0);
        var mask = new byte[size * size];
        double dx = x1 - x0, dy = y1 - y0, len2 = dx * dx + dy * dy;
        for (int y = 0; y < size; y++)
        {
            for (int x = 0; x < size; x++)
            {
                // Distance from the pixel centre to the segment.
                double px = x + 0.5, py = y + 0.5;
                double t = len2 == 0 ? 0 : Math.Clamp(((px - x0) * dx + (py - y0) * dy) / len2, 0, 1);
                double ex = px - (x0 + t * dx), ey = py - (y0 + t * dy);
                if (ex * ex + ey * ey <= halfWidth * halfWidth)
                {
                    mask[y * size + x] = 255;
                }
            }
        }

        return mask;
    }

    private static byte Clamp(double v) => (byte)Math.Clamp((int)Math.Round(v), 0, 255);

    private static void WritePng(string path, byte[] rgb, int size) => AtomicFile.Write(path, stream =>
    {
        using Image<Rgb24> image = Image.LoadPixelData<Rgb24>(rgb, size, size);
        image.Save(stream, new PngEncoder { ColorType = PngColorType.Rgb, BitDepth = PngBitDepth.Bit8 });
    });
}
