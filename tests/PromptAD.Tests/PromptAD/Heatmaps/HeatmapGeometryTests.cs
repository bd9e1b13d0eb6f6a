using System.Buffers.Binary;
using PromptAD.Clip.Imaging;
using PromptAD.Data;
using PromptAD.Heatmaps;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace PromptAD.Tests.Heatmaps;

/// <summary>Heatmaps at the image's proportions, raw maps at the image's size, and the two-pass heatmap writer.</summary>
public sealed class HeatmapGeometryTests : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("promptad-geometry-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    [Theory]
    [InlineData(1024, 768, 400, 400, 300)]
    [InlineData(768, 1024, 400, 300, 400)]
    [InlineData(900, 900, 400, 400, 400)]
    [InlineData(1000, 1, 400, 400, 1)]
    [InlineData(30, 20, 48, 48, 32)]
    public void OverlayKeepsTheImagesProportions(int w, int h, int longest, int ow, int oh) =>
        Assert.Equal((ow, oh), HeatmapRenderer.OverlaySize(w, h, longest));

    /// <summary>2×2 → 4×4 by hand: source coordinate (x + ½)/2 − ½ = −¼, ¼, ¾, 1¼ → clamped 0, ¼, ¾, 1.</summary>
    [Fact]
    public void BilinearAtPixelCentres_HandChecked()
    {
        float[] map = [0, 1, 2, 3];
        float[] expected =
        [
            0f, 0.25f, 0.75f, 1f,
            0.5f, 0.75f, 1.25f, 1.5f,
            1.5f, 1.75f, 2.25f, 2.5f,
            2f, 2.25f, 2.75f, 3f,
        ];
        Assert.Equal(expected, MapResize.Bilinear(map, 2, 2, 4, 4));
        // Down to 1×1: the centre, the mean of the four.
        Assert.Equal([1.5f], MapResize.Bilinear(map, 2, 2, 1, 1));
        // Non-square: 2×2 → 4×2 keeps the rows.
        Assert.Equal([0f, 0.25f, 0.75f, 1f, 2f, 2.25f, 2.75f, 3f], MapResize.Bilinear(map, 2, 2, 4, 2));
    }

    [Fact]
    public void Png16_StoresScoreTimes65535()
    {
        float[] map = [0f, 0.25f, 0.5f, 1f, 1.5f, -0.1f];
        string path = Path.Combine(_temp, "m.png");
        RawMapWriter.Write(path, map, 3, 2, RawMapFormat.Png16);
        using var img = Image.Load<L16>(path);
        Assert.Equal((3, 2), (img.Width, img.Height));
        Assert.Equal([0, 16384, 32768, 65535, 65535, 0], new[] { img[0, 0], img[1, 0], img[2, 0], img[0, 1], img[1, 1], img[2, 1] }.Select(p => (int)p.PackedValue));
    }

    [Fact]
    public void FloatTiff_HoldsTheScoresExactly()
    {
        float[] map = [0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.123456789f];
        string path = Path.Combine(_temp, "m.tiff");
        RawMapWriter.Write(path, map, 3, 2, RawMapFormat.Tiff);
        var (w, h, values) = ReadFloatTiff(path);
        Assert.Equal((3, 2), (w, h));
        Assert.Equal(map, values);
        // And an independent decoder reads it as a 3×2 image.
        using var img = Image.Load<RgbaVector>(path);
        Assert.Equal((3, 2), (img.Width, img.Height));
    }

    /// <summary>Reads the baseline float TIFF by its tags (an independent reader of the format, not of the writer's layout).</summary>
    internal static (int Width, int Height, float[] Values) ReadFloatTiff(string path)
    {
        byte[] b = File.ReadAllBytes(path);
        Assert.Equal((byte)'I', b[0]);
        Assert.Equal(42, BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(2)));
        int ifd = (int)BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(4));
        int count = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(ifd));
        var tags = new Dictionary<int, uint>();
        for (int i = 0; i < count; i++)
        {
            var e = b.AsSpan(ifd + 2 + 12 * i, 12);
            int type = BinaryPrimitives.ReadUInt16LittleEndian(e[2..]);
            tags[BinaryPrimitives.ReadUInt16LittleEndian(e)] = type == 3 ? BinaryPrimitives.ReadUInt16LittleEndian(e[8..]) : BinaryPrimitives.ReadUInt32LittleEndian(e[8..]);
        }
        Assert.Equal(32u, tags[258]);
        Assert.Equal(3u, tags[339]);
        Assert.Equal(1u, tags[259]);
        int w = (int)tags[256], h = (int)tags[257], offset = (int)tags[273];
        var values = new float[w * h];
        for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(b.AsSpan(offset + 4 * i));
        return (w, h, values);
    }

    /// <summary>The set's second pass renders exactly what one render with the whole set's range gives, at each
    /// image's proportions.</summary>
    [Fact]
    public void HeatmapSet_RendersWithOneRangeOverTheSet()
    {
        const int size = 8;
        var rng = new Random(3);
        RgbImage Photo(int w, int h) => new(w, h, [.. Enumerable.Range(0, w * h * 3).Select(_ => (byte)rng.Next(256))]);
        float[] Map(float lo, float hi) => [.. Enumerable.Range(0, size * size).Select(_ => lo + (hi - lo) * (float)rng.NextDouble())];
        (string Name, RgbImage Photo, float[] Map)[] items =
            [("a/x.png", Photo(16, 12), Map(0.2f, 0.3f)), ("b/y.png", Photo(8, 8), Map(0.1f, 0.15f)), ("b/z.png", Photo(6, 12), Map(0.25f, 0.6f))];
        var masks = new BinaryMask?[] { BinaryMask.Empty(16, 12), null, new BinaryMask(6, 12, [.. Enumerable.Range(0, 72).Select(i => (byte)(i % 2))]) };
        using (var set = new HeatmapSet(_temp, size, maskPanel: true))
        {
            for (int i = 0; i < items.Length; i++) set.Add(items[i].Name, items[i].Photo, items[i].Map, masks[i]);
            set.Finish(TextWriter.Null);
        }

        float min = items.Min(i => i.Map.Min()), max = items.Max(i => i.Map.Max());
        for (int i = 0; i < items.Length; i++)
        {
            var (w, h) = HeatmapRenderer.OverlaySize(items[i].Photo.Width, items[i].Photo.Height, size);
            string expected = Path.Combine(_temp, "expected.png");
            HeatmapRenderer.Write(expected, PillowBicubic.Resize(items[i].Photo, w, h), MapResize.Bilinear(items[i].Map, size, size, w, h), w, h,
                masks[i], min, max, maskPanel: true);
            string actual = Path.Combine(_temp, "heatmaps", items[i].Name);
            Assert.Equal(File.ReadAllBytes(expected), File.ReadAllBytes(actual));
            using var png = Image.Load<Rgb24>(actual);
            Assert.Equal((HeatmapRenderer.WidthFor(w), HeatmapRenderer.HeightFor(h)), (png.Width, png.Height));
        }
    }
}
