using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace PromptAD.Results.Report;

/// <summary>
/// A small JPEG of a heatmap, inlined into the report as a data: URL, so the gallery loads at once and the report stays
/// one file; the tile links to the full-size PNG beside it.
/// </summary>
internal static class Thumbnail
{
    public const int Height = 110;

    /// <returns>The data: URL, or null when the file is missing or not an image (the tile then shows text only).</returns>
    public static string? DataUrl(string pngPath)
    {
        if (!File.Exists(pngPath)) return null;
        try
        {
            using var image = Image.Load<Rgb24>(pngPath);
            if (image.Height > Height) image.Mutate(x => x.Resize(Math.Max(1, (int)Math.Round((double)image.Width * Height / image.Height)), Height));
            using var buffer = new MemoryStream();
            image.SaveAsJpeg(buffer, new JpegEncoder { Quality = 80 });
            return "data:image/jpeg;base64," + Convert.ToBase64String(buffer.GetBuffer(), 0, (int)buffer.Length);
        }
        catch (Exception e) when (e is UnknownImageFormatException or InvalidImageContentException or IOException)
        {
            return null;
        }
    }
}
