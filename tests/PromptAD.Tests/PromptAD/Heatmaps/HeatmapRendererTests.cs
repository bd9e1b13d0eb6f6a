using PromptAD.Clip.Imaging;
using PromptAD.Data;
using PromptAD.Heatmaps;

namespace PromptAD.Tests.Heatmaps;

public sealed class HeatmapRendererTests : IDisposable
{
    private const int Size = 40;
    private readonly string temp = Directory.CreateTempSubdirectory("promptad-heatmap-").FullName;

    public void Dispose() => Directory.Delete(temp, recursive: true);

    private static RgbImage Grey(int w, int h, byte v) => new(w, h, Enumerable.Repeat(v, w * h * 3).ToArray());

    /// <summary>Left half 0, right half 1.</summary>
    private static float[] HalfMap()
    {
        var map = new float[Size * Size];
        for (int y = 0; y < Size; y++)
        {
            for (int x = Size / 2; x < Size; x++)
            {
                map[y * Size + x] = 1f;
            }
        }

        return map;
    }

    private static void AssertPixel(RgbImage png, int x, int y, int r, int g, int b)
    {
        int p = 3 * (y * png.Width + x);
        Assert.InRange(png.Pixels[p], r - 1, r + 1);
        Assert.InRange(png.Pixels[p + 1], g - 1, g + 1);
        Assert.InRange(png.Pixels[p + 2], b - 1, b + 1);
    }

    [Fact]
    public void JetEnds()
    {
        Assert.Equal(((byte)0, (byte)0, (byte)128), Colormap.Jet(0));
        Assert.Equal(((byte)128, (byte)255, (byte)128), Colormap.Jet(0.5f));
        Assert.Equal(((byte)128, (byte)0, (byte)0), Colormap.Jet(1));
        Assert.Equal(Colormap.Jet(1), Colormap.Jet(7));
    }

    [Fact]
    public void OverlayMaskAndColorbar()
    {
        // 10×10 defect in a 20×20 mask: resized ×2 nearest to rows/columns 10..29 of the 40×40 panel.
        var maskBits = new byte[20 * 20];
        for (int y = 5; y < 15; y++)
        {
            for (int x = 5; x < 15; x++)
            {
                maskBits[y * 20 + x] = 1;
            }
        }

        string path = Path.Combine(temp, "sub", "heat.png");
        HeatmapRenderer.Write(path, Grey(50, 50, 100), HalfMap(), Size, new BinaryMask(20, 20, maskBits), 0f, 1f);
        RgbImage png = ImageLoader.Load(path);
        Assert.Equal(HeatmapRenderer.WidthFor(Size), png.Width);
        Assert.Equal(HeatmapRenderer.HeightFor(Size), png.Height);
        Assert.Equal(2 * Size + HeatmapRenderer.Gap, png.Width);

        // Overlay: grey 100 blended half-and-half with jet(0) = (0, 0, 128) and jet(1) = (128, 0, 0).
        AssertPixel(png, 5, 5, 50, 50, 114);
        AssertPixel(png, 35, 30, 114, 50, 50);

        // Mask panel: white inside the defect, black outside.
        int panel = Size + HeatmapRenderer.Gap;
        AssertPixel(png, panel + 20, 20, 255, 255, 255);
        AssertPixel(png, panel + 2, 2, 0, 0, 0);

        // Colorbar: jet(0) at the left, the white tick at this map's maximum (1 = right end).
        int bar = Size + HeatmapRenderer.Gap + HeatmapRenderer.ColorbarHeight / 2;
        AssertPixel(png, 0, bar, 0, 0, 128);
        AssertPixel(png, Size - 1, bar, 255, 255, 255);
    }

    [Fact]
    public void FixedRangeClampsAndNoMaskPanel()
    {
        // Range (−1, 3): 0 → t = 0.25 (jet = 0, 128, 255), 1 → t = 0.5 (128, 255, 128).
        byte[] png = HeatmapRenderer.RenderPng(Grey(Size, Size, 0), HalfMap(), Size, mask: null, -1f, 3f);
        RgbImage img = ImageLoader.Load(new MemoryStream(png), "mem");
        AssertPixel(img, 3, 3, 0, 64, 128);
        AssertPixel(img, 30, 3, 64, 128, 64);
        int panel = Size + HeatmapRenderer.Gap;
        AssertPixel(img, panel + 2, 20, 96, 96, 96);
        AssertPixel(img, panel + 20, 20, 160, 160, 160);
        Assert.Throws<ArgumentException>(() => HeatmapRenderer.RenderPng(Grey(4, 4, 0), new float[10], Size, null, 0, 1));
    }

    [Fact]
    public void RangeOfIgnoresNaN() =>
        Assert.Equal((-2f, 5f), HeatmapRenderer.RangeOf([[1f, float.NaN, 5f], [-2f]]));

    /// <summary>A realistic 400×400 render from the demo dataset; set PROMPTAD_KEEP_HEATMAP=&lt;file&gt; to keep it for a look.</summary>
    [Fact]
    public void DemoImageAtFullSize()
    {
        SyntheticDataset.Generate(temp, seed: 1);
        AnomalyDataset d = AnomalyDataset.Open(temp, SyntheticDataset.Category);
        TestSample s = d.TestSamples.First(t => t.IsAnomalous);
        BinaryMask mask = MaskLoader.Load(s.MaskPath!, 400, 400);

        // Map: distance-to-defect falloff, so the hot area sits on the scratch.
        var map = new float[400 * 400];
        for (int y = 0; y < 400; y++)
        {
            for (int x = 0; x < 400; x++)
            {
                float best = 0;
                for (int dy = -24; dy <= 24; dy += 8)
                {
                    for (int dx = -24; dx <= 24; dx += 8)
                    {
                        int yy = y + dy, xx = x + dx;
                        if (yy >= 0 && yy < 400 && xx >= 0 && xx < 400 && mask.Pixels[yy * 400 + xx] != 0)
                        {
                            best = Math.Max(best, 1f - MathF.Sqrt(dx * dx + dy * dy) / 40f);
                        }
                    }
                }

                map[y * 400 + x] = 0.1f + 0.8f * best;
            }
        }

        string path = Path.Combine(temp, "demo.png");
        HeatmapRenderer.Write(path, ImageLoader.Load(s.ImagePath), map, 400, MaskLoader.Load(s.MaskPath!), 0f, 1f);
        RgbImage png = ImageLoader.Load(path);
        Assert.Equal(808, png.Width);
        Assert.Equal(420, png.Height);
        if (Environment.GetEnvironmentVariable("PROMPTAD_KEEP_HEATMAP") is { Length: > 0 } keep)
        {
            File.Copy(path, keep, overwrite: true);
        }
    }
}
