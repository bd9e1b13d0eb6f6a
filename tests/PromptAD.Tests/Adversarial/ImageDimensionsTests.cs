using PromptAD.Clip.Imaging;

namespace PromptAD.Tests.Adversarial;

/// <summary>
/// The service budgets decoding by the pixel count read from the header (ImageLoader.Dimensions); for every image
/// of the adversarial goldens that decodes, that count is the decoded image's (animated WebP: its first frame's
/// still; EXIF rotation may swap the sides, not the count), from a path and from a stream alike.
/// </summary>
public sealed class ImageDimensionsTests
{
    [Fact]
    public void HeaderPixelCount_IsTheDecodedImages()
    {
        string golden = Path.Combine(AppContext.BaseDirectory, "Golden", "adversarial");
        int checkedImages = 0;
        foreach (string file in Directory.GetFiles(golden).Where(f => Path.GetExtension(f) is not (".rgb" or ".txt" or ".json")).Order(StringComparer.Ordinal))
        {
            RgbImage decoded;
            try { decoded = ImageLoader.Load(file); }
            catch (ImageLoadException) { continue; }
            var (w, h) = ImageLoader.Dimensions(file);
            Assert.True((long)w * h == (long)decoded.Width * decoded.Height, $"{Path.GetFileName(file)}: header {w}×{h}, decoded {decoded.Width}×{decoded.Height}");
            using var stream = new MemoryStream(File.ReadAllBytes(file));
            Assert.Equal((w, h), ImageLoader.Dimensions(stream, file));
            Assert.Equal(0, stream.Position);
            checkedImages++;
        }
        Assert.True(checkedImages >= 2, $"only {checkedImages} golden image(s) decode");
    }
}
