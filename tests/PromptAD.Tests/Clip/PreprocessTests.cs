using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text.Json;
using PromptAD.Clip.Imaging;

namespace PromptAD.Tests.Clip;

/// <summary>
/// ImageLoader + ClipPreprocessor against Pillow goldens from tests/reference/preprocess_reference.py
/// (<c>img.convert("RGB").resize((240, 240), Image.BICUBIC)</c>, then CLIP normalisation).
/// Synthetic PNG/BMP/TIFF inputs are committed with Pillow's 8-bit output; the real MVTec/hazelnut
/// images in ../shared are checked against committed checksums and samples, and against the full
/// float arrays in tests/reference/large/preprocess when the reference script has been run.
/// </summary>
public class PreprocessTests(ITestOutputHelper output)
{
    private static readonly ClipPreprocessor Pre = new(240);

    // ImageSharp's JPEG decoder is not libjpeg-turbo: allow two 8-bit levels (÷ the smallest std).
    // Measured on the hazelnut JPEGs: mean abs ≈ 5e-4, max ≈ 0.015 (one level).
    private const double JpegMaxError = 2 / 255.0 / 0.26130258 + 1e-6;

    private sealed record Golden(string Name, string Kind, string Sha256, double Sum, double[] ChannelMean, (int C, int Y, int X, float V)[] Samples);

    private static readonly Lazy<List<Golden>> Cases = new(() =>
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(ClipTestPaths.Golden("preprocess", "cases.json")));
        return doc.RootElement.EnumerateArray().Select(e => new Golden(
            e.GetProperty("name").GetString()!,
            e.GetProperty("kind").GetString()!,
            e.GetProperty("sha256_u8_hwc").GetString()!,
            e.GetProperty("sum_f64").GetDouble(),
            [.. e.GetProperty("channel_mean").EnumerateArray().Select(v => v.GetDouble())],
            [.. e.GetProperty("samples").EnumerateArray().Select(s =>
                (s[0].GetInt32(), s[1].GetInt32(), s[2].GetInt32(), s[3].GetSingle()))])).ToList();
    });

    private static string SyntheticPath(string name) => ClipTestPaths.Golden("preprocess", "synthetic", name);

    private static (double MeanAbs, double Max) Errors(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        double sum = 0, max = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double d = Math.Abs(a[i] - b[i]);
            sum += d;
            max = Math.Max(max, d);
        }

        return (sum / a.Length, max);
    }

    private static void AssertMatchesSummary(Golden g, RgbImage resized, float[] ours)
    {
        Assert.Equal(g.Sha256, Convert.ToHexStringLower(SHA256.HashData(resized.Pixels)));
        foreach (var (c, y, x, v) in g.Samples)
        {
            Assert.Equal(v, ours[(c * 240 + y) * 240 + x]); // same float32 operations: bit-identical
        }

        Assert.Equal(g.Sum, ours.Sum(v => (double)v), 1e-6);
    }

    [Fact]
    public void Synthetic_MatchPillowExactly()
    {
        var synthetic = Cases.Value.Where(c => c.Kind == "synthetic").ToList();
        Assert.True(synthetic.Count >= 10);
        foreach (Golden g in synthetic)
        {
            RgbImage resized = Pre.Resize(ImageLoader.Load(SyntheticPath(g.Name)));
            float[] ours = Pre.Normalize(resized);
            float[] pillow = Pre.Normalize(ImageLoader.Load(SyntheticPath(g.Name + ".out.png")));
            var (meanAbs, max) = Errors(ours, pillow);
            output.WriteLine($"{g.Name}: mean abs error {meanAbs:G3}, max error {max:G3} (normalized units)");
            Assert.True(max == 0, $"{g.Name}: max error {max}, mean abs {meanAbs}");
            AssertMatchesSummary(g, resized, ours);
        }
    }

    [Fact]
    public void RealImages_MatchPillow()
    {
        string largeDir = Path.Combine(ClipTestPaths.RepoRoot, "tests", "reference", "large", "preprocess");
        foreach (Golden g in Cases.Value.Where(c => c.Kind == "real"))
        {
            string path = Path.Combine(ClipTestPaths.Shared, "data", g.Name);
            Assert.True(File.Exists(path), $"missing shared test image {path}");
            RgbImage resized = Pre.Resize(ImageLoader.Load(path));
            float[] ours = Pre.Normalize(resized);
            bool jpeg = g.Name.EndsWith(".jpg", StringComparison.OrdinalIgnoreCase);

            // Committed summary: exact for PNG; for JPEG, ImageSharp's decoder is not libjpeg, so compare loosely.
            if (!jpeg)
            {
                AssertMatchesSummary(g, resized, ours);
            }
            else
            {
                for (int c = 0; c < 3; c++)
                {
                    double mean = ours.AsSpan(c * 240 * 240, 240 * 240).ToArray().Average(v => (double)v);
                    Assert.True(Math.Abs(mean - g.ChannelMean[c]) < 0.01, $"{g.Name} channel {c} mean {mean} vs {g.ChannelMean[c]}");
                }

                foreach (var (c, y, x, v) in g.Samples)
                {
                    Assert.True(Math.Abs(v - ours[(c * 240 + y) * 240 + x]) <= JpegMaxError, $"{g.Name} sample ({c},{y},{x})");
                }
            }

            string full = Path.Combine(largeDir, g.Name.Replace("/", "__", StringComparison.Ordinal) + ".f32");
            if (File.Exists(full))
            {
                byte[] bytes = File.ReadAllBytes(full);
                var pillow = new float[bytes.Length / 4];
                for (int i = 0; i < pillow.Length; i++)
                {
                    pillow[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(4 * i));
                }

                var (meanAbs, max) = Errors(ours, pillow);
                output.WriteLine($"{g.Name}: mean abs error {meanAbs:G3}, max error {max:G3} (normalized units, full array)");
                Assert.True(jpeg ? meanAbs < 0.002 && max <= JpegMaxError : max == 0, $"{g.Name}: mean abs {meanAbs}, max {max}");
            }
            else
            {
                output.WriteLine($"{g.Name}: full golden absent (run tests/reference/preprocess_reference.py); checked summary only");
            }
        }
    }

    [Theory]
    [InlineData("gray_L_64x48.png", 64, 48)]
    [InlineData("palette_P_50x70.png", 50, 70)]
    [InlineData("rgba_80x80.png", 80, 80)]
    [InlineData("gray_alpha_LA_30x30.png", 30, 30)]
    [InlineData("gray16_I16_40x30.png", 40, 30)]
    [InlineData("rgb48_33x21.png", 33, 21)]
    [InlineData("rgb_45x35.bmp", 45, 35)]
    [InlineData("rgb_52x40.tif", 52, 40)]
    public void Loader_DecodesPixelFormats(string name, int width, int height)
    {
        RgbImage img = ImageLoader.Load(SyntheticPath(name));
        Assert.Equal(width, img.Width);
        Assert.Equal(height, img.Height);
        if (name.StartsWith("gray", StringComparison.Ordinal))
        {
            for (int i = 0; i < img.Pixels.Length; i += 3)
            {
                Assert.True(img.Pixels[i] == img.Pixels[i + 1] && img.Pixels[i] == img.Pixels[i + 2], "grayscale must replicate to RGB");
            }
        }
    }

    [Theory]
    [InlineData(3, 40, 24)]
    [InlineData(6, 24, 40)]
    [InlineData(8, 24, 40)]
    // Pixel content after rotation is checked against Pillow's ImageOps.exif_transpose in Synthetic_MatchPillowExactly.
    public void Loader_AppliesExifOrientation(int orientation, int width, int height)
    {
        RgbImage img = ImageLoader.Load(SyntheticPath($"exif_orientation{orientation}_40x24.png"));
        Assert.Equal(width, img.Width);
        Assert.Equal(height, img.Height);
    }

    [Fact]
    public void Loader_TruncatedFile_ThrowsNamingPath()
    {
        byte[] png = File.ReadAllBytes(SyntheticPath("rgb_517x333_downscale.png"));
        string path = TempFile("truncated.png", png.AsSpan(0, png.Length / 2).ToArray());
        var e = Assert.Throws<ImageLoadException>(() => ImageLoader.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Equal(path, e.ImagePath);
    }

    [Fact]
    public void Loader_GarbageAndMissingFiles_Throw()
    {
        string garbage = TempFile("garbage.png", [.. Enumerable.Range(0, 1000).Select(i => (byte)(i * 37))]);
        Assert.Contains(garbage, Assert.Throws<ImageLoadException>(() => ImageLoader.Load(garbage)).Message);
        string empty = TempFile("empty.jpg", []);
        Assert.Contains(empty, Assert.Throws<ImageLoadException>(() => ImageLoader.Load(empty)).Message);
        string missing = Path.Combine(Path.GetTempPath(), "promptad-no-such-file.png");
        Assert.Contains(missing, Assert.Throws<ImageLoadException>(() => ImageLoader.Load(missing)).Message);
    }

    [Fact]
    public void Loader_OversizedHeader_RejectedBeforeDecoding()
    {
        // A valid PNG signature + IHDR claiming 100000x100000 and no pixel data.
        string path = TempFile("huge.png", PngHeaderOnly(100_000, 100_000));
        var e = Assert.Throws<ImageLoadException>(() => ImageLoader.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("exceed", e.Message);

        // Limits are configurable: a normal image over a small limit is refused too.
        var small = new ImageLoadLimits(MaxWidth: 32, MaxHeight: 32, MaxPixels: 1024);
        Assert.Throws<ImageLoadException>(() => ImageLoader.Load(SyntheticPath("rgb_37x23_upscale.png"), small));
    }

    [Fact]
    public void Normalize_UsesClipMeanStd()
    {
        var img = new RgbImage(1, 1, [255, 0, 128]);
        float[] x = Pre.Normalize(img);
        Assert.Equal((1f - 0.48145466f) / 0.26862954f, x[0]);
        Assert.Equal((0f - 0.4578275f) / 0.26130258f, x[1]);
        Assert.Equal((128 / 255f - 0.40821073f) / 0.27577711f, x[2]);
    }

    [Fact]
    public void Preprocess_ShapeIsChw240()
    {
        float[] x = Pre.Preprocess(SyntheticPath("rgb_100x60_upscale.png"));
        Assert.Equal(3 * 240 * 240, x.Length);
    }

    private static string TempFile(string name, byte[] content)
    {
        string dir = Path.Combine(Path.GetTempPath(), "promptad-preprocess-tests-" + Environment.ProcessId);
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, name);
        File.WriteAllBytes(path, content);
        return path;
    }

    private static byte[] PngHeaderOnly(int width, int height)
    {
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; // bit depth
        ihdr[9] = 2; // RGB
        using var ms = new MemoryStream();
        ms.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        WriteChunk(ms, "IHDR", ihdr);
        WriteChunk(ms, "IEND", []);
        return ms.ToArray();
    }

    private static void WriteChunk(Stream s, string type, byte[] data)
    {
        Span<byte> buf = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(buf, data.Length);
        s.Write(buf);
        byte[] typeAndData = [.. type.Select(ch => (byte)ch), .. data];
        s.Write(typeAndData);
        BinaryPrimitives.WriteUInt32BigEndian(buf, Crc32(typeAndData));
        s.Write(buf);
    }

    // PNG's CRC-32 (IEEE, reflected), bitwise: only used for a handful of header bytes.
    private static uint Crc32(byte[] data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
            }
        }

        return ~crc;
    }
}
