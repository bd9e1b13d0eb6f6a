using System.Buffers.Binary;
using PromptAD.Clip.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;

namespace PromptAD.Tests.Adversarial;

/// <summary>
/// A JPEG whose header claims 16000×6000 but whose entropy-coded data is that of a tiny image (cut, then closed with
/// an end-of-image marker) would decode as a grey picture; it is refused as truncated, so `predict --strict` fails.
/// </summary>
[Collection("Console")]
public sealed class JpegShortOfItsHeaderTests : IDisposable
{
    private readonly Hostile _h = new();

    public void Dispose() => _h.Dispose();

    [Fact]
    public void HeaderClaimingFarMoreBlocksThanTheData_IsRefused_AndFailsStrictPredict()
    {
        using var image = new Image<Rgb24>(64, 48, new Rgb24(90, 120, 200));
        using var ms = new MemoryStream();
        image.SaveAsJpeg(ms, new JpegEncoder { Quality = 90 });
        byte[] jpeg = ms.ToArray();
        int sof = -1;
        for (int i = 2; i + 1 < jpeg.Length; i++)
            if (jpeg[i] == 0xFF && jpeg[i + 1] is 0xC0 or 0xC1 or 0xC2) { sof = i; break; }
        Assert.True(sof > 0);
        BinaryPrimitives.WriteUInt16BigEndian(jpeg.AsSpan(sof + 5), 6000);  // height
        BinaryPrimitives.WriteUInt16BigEndian(jpeg.AsSpan(sof + 7), 16000); // width
        string path = _h.P("claims-16000x6000.jpg");
        File.WriteAllBytes(path, jpeg);

        var e = Assert.Throws<ImageLoadException>(() => ImageLoader.Load(path));
        Assert.Contains("truncated", e.Message);

        string model = _h.TrainModel();
        var r = Hostile.Cli("predict", "--model", model, "--weights", _h.Weights, path, "--size", "32", "--strict", "--out", _h.P("p"));
        Assert.True(r.Code == 1, $"exit {r.Code}: {r.Err}");
        Assert.Contains(path, r.Err);
    }
}
