using PromptAD.Clip.Imaging;

namespace PromptAD.Data;

/// <summary>Loads ground-truth mask files as <see cref="BinaryMask"/>s.</summary>
public static class MaskLoader
{
    /// <summary>
    /// Decodes a mask image and binarizes it: a pixel is anomalous when any RGB channel is &gt; 0 (for the
    /// usual 8-bit grayscale masks that is value &gt; 0, like OpenCV's IMREAD_GRAYSCALE then &gt; 0).
    /// 16-bit masks go through <see cref="ImageLoader"/>, which keeps the high byte, so 16-bit values below 256
    /// would read as 0 — MVTec and VisA masks are 8-bit.
    /// </summary>
    public static BinaryMask Load(string path)
    {
        RgbImage image = ImageLoader.Load(path);
        byte[] rgb = image.Pixels;
        var bits = new byte[image.Width * image.Height];
        for (int i = 0; i < bits.Length; i++)
        {
            bits[i] = (rgb[3 * i] | rgb[3 * i + 1] | rgb[3 * i + 2]) != 0 ? (byte)1 : (byte)0;
        }

        return new BinaryMask(image.Width, image.Height, bits);
    }

    /// <summary>Loads and resizes to the evaluation resolution (nearest neighbour, see <see cref="BinaryMask.ResizeNearest"/>).</summary>
    public static BinaryMask Load(string path, int width, int height) => Load(path).ResizeNearest(width, height);
}
