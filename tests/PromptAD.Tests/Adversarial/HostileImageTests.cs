using System.Buffers.Binary;
using PromptAD.Clip.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

namespace PromptAD.Tests.Adversarial;

/// <summary>
/// #12 items 9–11 and deliverable 5: generated hostile images. Every case has one exact outcome: an
/// <see cref="ImageLoadException"/> naming the file (and what is wrong), or the right pixels. Seeded.
/// </summary>
[Collection("Console")]
public sealed class HostileImageTests : IDisposable
{
    private readonly Hostile _h = new();

    public void Dispose() => _h.Dispose();

    private static byte[] Noise(int w, int h, int seed, Func<Image<Rgb24>, MemoryStream, int> encode)
    {
        var rng = new Random(seed);
        using var img = new Image<Rgb24>(w, h);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                img[x, y] = new Rgb24((byte)rng.Next(256), (byte)(x * 4), (byte)(y * 4));
        using var ms = new MemoryStream();
        encode(img, ms);
        return ms.ToArray();
    }

    private static byte[] Png(int w = 64, int h = 64, int seed = 1) => Noise(w, h, seed, (i, s) => { i.SaveAsPng(s); return 0; });

    private static byte[] Jpeg(int w = 64, int h = 64, int seed = 1) =>
        Noise(w, h, seed, (i, s) => { i.SaveAsJpeg(s, new JpegEncoder { Quality = 90 }); return 0; });

    private string Write(string name, byte[] bytes)
    {
        string path = _h.P(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static ImageLoadException Refused(string path, string mentions)
    {
        var ex = Assert.Throws<ImageLoadException>(() => ImageLoader.Load(path));
        Assert.Equal(path, ex.ImagePath);
        Assert.Contains(mentions, ex.Message);
        return ex;
    }

    [Fact]
    public void TruncatedAtEveryQuarter_IsRefused()
    {
        foreach (var (ext, bytes) in new[] { ("png", Png()), ("jpg", Jpeg()), ("png", Png(200, 7, seed: 3)), ("jpg", Jpeg(33, 170, seed: 4)) })
        {
            // The complete file loads.
            Assert.Equal(bytes.Length > 0, ImageLoader.Load(Write("whole." + ext, bytes)).Width > 0);
            foreach (int quarter in new[] { 1, 2, 3 })
            {
                string path = Write($"cut{quarter}.{ext}", bytes[..(bytes.Length * quarter / 4)]);
                var ex = Assert.Throws<ImageLoadException>(() => ImageLoader.Load(path));
                Assert.Equal(path, ex.ImagePath);
            }
            // Cut just before the very end: the last chunk / end-of-image marker missing.
            Refused(Write("cut-end." + ext, bytes[..^2]), "truncated");
        }
        Refused(Write("empty.png", []), "");
    }

    [Fact]
    public void TruncatedJpeg_InATestSet_IsSkippedWithItsReason_OrFatalWithStrict()
    {
        string model = _h.TrainModel();
        string cut = Path.Combine(_h.Category, "test", "good", "zz_cut.jpg");
        byte[] jpeg = Jpeg(32, 32);
        File.WriteAllBytes(cut, jpeg[..(jpeg.Length / 2)]);
        var r = Hostile.Cli("test", "--model", model, "--weights", _h.Weights, "--data", _h.Data, "--size", "32", "--out", _h.P("t"));
        Assert.True(r.Code == 0, r.Err);
        string skipped = File.ReadAllText(_h.P("t", "skipped.txt"));
        Assert.Contains(cut, skipped);
        Assert.Contains("truncated JPEG", skipped);
        Assert.DoesNotContain("zz_cut", File.ReadAllText(_h.P("t", "scores.csv")));

        r = Hostile.Cli("test", "--model", model, "--weights", _h.Weights, "--data", _h.Data, "--size", "32", "--out", _h.P("t2"), "--strict");
        Assert.Equal(1, r.Code);
        Assert.Contains(cut, r.Err);
    }

    [Fact]
    public void HeaderBombs_AreRefusedBeforeDecoding()
    {
        // A valid PNG whose IHDR claims 100000×100000 (CRC fixed up): refused by the limits, nothing allocated.
        byte[] png = Png(8, 8);
        BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(16), 100_000);
        BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(20), 100_000);
        BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(29), Crc32(png.AsSpan(12, 17)));
        Refused(Write("bomb.png", png), "exceed the limit");

        // A JPEG whose SOF0 claims 60000×60000.
        byte[] jpg = Jpeg(8, 8);
        int sof = FindMarker(jpg, 0xC0);
        BinaryPrimitives.WriteUInt16BigEndian(jpg.AsSpan(sof + 5), 60000);
        BinaryPrimitives.WriteUInt16BigEndian(jpg.AsSpan(sof + 7), 60000);
        Refused(Write("bomb.jpg", jpg), "exceed the limit");
    }

    [Fact]
    public void MultiFrameTiff_DecodesTheFirstFrameOnly()
    {
        // Frame 0: 4×2 RGB with known pixels. Frames 1..40: 8000×8000 each, strips pointing past the end of the file —
        // decoding any of them would cost 192 MB (and fail); only the first may be read.
        // And frames of the first one's size in a compression no decoder knows: readable only if they are never decoded.
        foreach (var (name, bigSide) in new[] { ("frames.tiff", 8000), ("same-size-frames.tif", 0) })
        {
            var img = ImageLoader.Load(Write(name, MultiFrameTiff(frames: 41, bigSide)));
            Assert.Equal((4, 2), (img.Width, img.Height));
            for (int i = 0; i < 8; i++)
                Assert.Equal(new byte[] { (byte)(30 * i), (byte)(255 - 30 * i), (byte)(7 * i) }, img.Pixels.AsSpan(3 * i, 3).ToArray());
        }
    }

    [Theory]
    [InlineData("anim_lossless.webp", 0)]
    [InlineData("anim_lossy_alpha.webp", 2)]
    public void AnimatedWebp_DecodesTheFirstFrameOnly_AsPillowDoes(string file, int tolerance)
    {
        // Written by Pillow (tests/reference/make_adversarial_images.py): three 12×8 frames; Pillow's first frame, as RGB,
        // beside it. Lossless (VP8L) frames must match exactly; lossy frames with alpha (ALPH + VP8) within a level or two.
        string golden = Path.Combine(AppContext.BaseDirectory, "Golden", "adversarial");
        byte[] expected = File.ReadAllBytes(Path.Combine(golden, file + ".rgb"));
        var img = ImageLoader.Load(Path.Combine(golden, file));
        Assert.Equal((12, 8), (img.Width, img.Height));
        Assert.Equal(expected.Length, img.Pixels.Length);
        int worst = expected.Zip(img.Pixels, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(worst <= tolerance, $"{file}: largest difference from Pillow's first frame {worst} > {tolerance}");
    }

    [Fact]
    public void AnimatedWebp_ThatCannotStandAlone_IsRefusedByName()
    {
        string golden = Path.Combine(AppContext.BaseDirectory, "Golden", "adversarial");
        byte[] anim = File.ReadAllBytes(Path.Combine(golden, "anim_lossless.webp"));
        int anmf = anim.AsSpan().IndexOf("ANMF"u8);
        Assert.True(anmf > 0);

        // Cut inside the first frame: no complete first frame.
        Refused(Write("cut.webp", anim[..(anmf + 40)]), "animated WebP");

        // A first frame narrower than the canvas would need compositing: refused, saying what to do.
        byte[] narrow = (byte[])anim.Clone();
        narrow[anmf + 8 + 6] = 4; // frame width − 1 = 4 on a 12-wide canvas
        Refused(Write("narrow.webp", narrow), "does not cover");
    }

    [Fact]
    public async Task FifoAndDevices_AreRefusedWithoutOpening()
    {
        string fifo = Hostile.MakeFifo(_h.P("pipe.png"));
        var ct = TestContext.Current.CancellationToken;
        var load = Task.Run(() => Assert.Throws<ImageLoadException>(() => ImageLoader.Load(fifo)), ct);
        if (await Task.WhenAny(load, Task.Delay(TimeSpan.FromSeconds(60), ct)) != load)
        {
            await File.WriteAllBytesAsync(fifo, [], ct); // unblock the reader stuck in open()
            Assert.Fail("loading a FIFO blocked");
        }
        Assert.Contains("not a regular file", (await load).Message);

        string zero = _h.P("zero.png");
        File.CreateSymbolicLink(zero, "/dev/zero");
        Refused(zero, "not a regular file");

        Directory.CreateDirectory(_h.P("folder.png"));
        Refused(_h.P("folder.png"), "folder");
    }

    [Fact]
    public async Task FifoInADataset_IsSkipped_NotAHang()
    {
        string model = _h.TrainModel();
        string fifo = Hostile.MakeFifo(Path.Combine(_h.Category, "test", "good", "zz_pipe.png"));
        var ct = TestContext.Current.CancellationToken;
        var run = Task.Run(() => Hostile.Cli("test", "--model", model, "--weights", _h.Weights, "--data", _h.Data, "--size", "32", "--out", _h.P("t")), ct);
        if (await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(120), ct)) != run)
        {
            await File.WriteAllBytesAsync(fifo, [], ct);
            Assert.Fail("test blocked on a FIFO");
        }
        var result = await run;
        Assert.True(result.Code == 0, result.Err);
        string skipped = File.ReadAllText(_h.P("t", "skipped.txt"));
        Assert.StartsWith(fifo + "\t", skipped);
        Assert.Contains("not a regular file", skipped);
    }

    [Fact]
    public void TinyWideAndCmykImages_DecodeToTheRightPixels()
    {
        using (var one = new Image<Rgb24>(1, 1))
        {
            one[0, 0] = new Rgb24(9, 200, 77);
            one.SaveAsPng(_h.P("one.png"));
        }
        var img = ImageLoader.Load(_h.P("one.png"));
        Assert.Equal(new byte[] { 9, 200, 77 }, img.Pixels);

        using (var wide = new Image<Rgb48>(2, 1))
        {
            wide[0, 0] = new Rgb48(0x1234, 0xABCD, 0xFF00);
            wide[1, 0] = new Rgb48(0x00FF, 0x8000, 0x7FFF);
            wide.SaveAsPng(_h.P("wide.png"), new PngEncoder { BitDepth = PngBitDepth.Bit16, ColorType = PngColorType.Rgb });
        }
        Assert.Equal(new byte[] { 0x12, 0xAB, 0xFF, 0x00, 0x80, 0x7F }, ImageLoader.Load(_h.P("wide.png")).Pixels);

        // CMYK JPEG written by Pillow (tests/reference/make_adversarial_images.py) against Pillow's own RGB: JPEG decoders
        // differ by a few levels, the colour must not.
        string golden = Path.Combine(AppContext.BaseDirectory, "Golden", "adversarial");
        int[] expected = [.. File.ReadAllText(Path.Combine(golden, "cmyk.expected.txt")).Split(' ', StringSplitOptions.TrimEntries).Select(int.Parse)];
        var cmyk = ImageLoader.Load(Path.Combine(golden, "cmyk.jpg"));
        int centre = 3 * (4 * cmyk.Width + 8);
        for (int c = 0; c < 3; c++) Assert.InRange(cmyk.Pixels[centre + c], expected[c] - 6, expected[c] + 6);
    }

    [Fact]
    public void OddFileNames_AreScoredAndWrittenFaithfully()
    {
        string model = _h.TrainModel();
        string folder = _h.P("odd names");
        Directory.CreateDirectory(folder);
        string[] names = ["a b.png", "ünïcødé 图.png", "new\nline.png", "quote\"comma,.png", "-dash.png"];
        byte[] png = File.ReadAllBytes(Directory.GetFiles(Path.Combine(_h.Category, "test", "good"))[0]);
        foreach (string n in names) File.WriteAllBytes(Path.Combine(folder, n), png);
        var r = Hostile.Cli("predict", "--model", model, "--weights", _h.Weights, folder, "--size", "32", "--out", _h.P("p"));
        Assert.True(r.Code == 0, r.Err);
        var rows = ParseCsv(File.ReadAllText(_h.P("p", "scores.csv")));
        Assert.Equal(names.Order(StringComparer.Ordinal), rows.Skip(1).Select(row => Path.GetFileName(row[0])));
        // The same image under every name: the same score.
        Assert.Single(rows.Skip(1).Select(row => row[1]).Distinct());
        Assert.Equal(names.Length, Directory.GetFiles(_h.P("p", "heatmaps")).Length);
    }

    /// <summary>RFC 4180 records (quoted fields may hold commas, quotes and newlines).</summary>
    private static List<List<string>> ParseCsv(string text)
    {
        var rows = new List<List<string>>();
        var row = new List<string>();
        var field = new System.Text.StringBuilder();
        bool quoted = false;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"') { field.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else field.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { row.Add(field.ToString()); field.Clear(); }
            else if (c == '\n' || c == '\r')
            {
                if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n') i++;
                row.Add(field.ToString()); field.Clear();
                rows.Add(row); row = [];
            }
            else field.Append(c);
        }
        if (field.Length > 0 || row.Count > 0) { row.Add(field.ToString()); rows.Add(row); }
        return rows;
    }

    private static int FindMarker(byte[] jpg, byte marker)
    {
        for (int i = 2; i + 1 < jpg.Length; i++)
            if (jpg[i] == 0xFF && jpg[i + 1] == marker) return i;
        throw new InvalidOperationException("marker not found");
    }

    internal static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? 0xEDB88320 ^ (crc >> 1) : crc >> 1;
        }
        return ~crc;
    }

    /// <summary>
    /// A little-endian baseline TIFF: frame 0 a 4×2 RGB image, then <paramref name="frames"/>−1 frames of
    /// <paramref name="bigSide"/>² pixels whose strips lie past the end of the file (0: 4×2 frames in an unknown compression).
    /// </summary>
    private static byte[] MultiFrameTiff(int frames, int bigSide)
    {
        var f = new List<byte>();
        void U16(int v) { f.Add((byte)v); f.Add((byte)(v >> 8)); }
        void U32(long v) { for (int s = 0; s < 32; s += 8) f.Add((byte)(v >> s)); }
        void Patch32(int at, long v) { for (int s = 0; s < 4; s++) f[at + s] = (byte)(v >> (8 * s)); }
        f.AddRange("II"u8.ToArray()); U16(42); U32(8);
        const int entries = 10;
        int ifdSize = 2 + entries * 12 + 4;
        int dataStart = 8 + frames * ifdSize;
        int bitsAt = dataStart, pixelsAt = dataStart + 6;
        for (int frame = 0; frame < frames; frame++)
        {
            int w = frame == 0 || bigSide == 0 ? 4 : bigSide, h = frame == 0 || bigSide == 0 ? 2 : bigSide;
            U16(entries);
            void Entry(int tag, int type, int count, long value) { U16(tag); U16(type); U32(count); U32(value); }
            Entry(256, 4, 1, w);
            Entry(257, 4, 1, h);
            Entry(258, 3, 3, bitsAt);
            Entry(259, 3, 1, frame > 0 && bigSide == 0 ? 0x7FFF : 1); // same-size frames: a compression no decoder knows
            Entry(262, 3, 1, 2);
            Entry(273, 4, 1, frame == 0 ? pixelsAt : 1L << 30);
            Entry(277, 3, 1, 3);
            Entry(278, 4, 1, h);
            Entry(279, 4, 1, (long)w * h * 3);
            Entry(284, 3, 1, 1);
            int next = f.Count;
            U32(0);
            if (frame + 1 < frames) Patch32(next, 8 + (frame + 1) * ifdSize);
        }
        U16(8); U16(8); U16(8);
        for (int i = 0; i < 8; i++) { f.Add((byte)(30 * i)); f.Add((byte)(255 - 30 * i)); f.Add((byte)(7 * i)); }
        return [.. f];
    }
}
