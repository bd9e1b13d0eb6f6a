namespace PromptAD.Clip.Imaging;

/// <summary>
/// An 8-bit RGB image, interleaved (row-major, R G B per pixel). Kept as bytes rather than floats
/// because Pillow resizes 8-bit images in 8-bit fixed point, and matching it needs the same input.
/// </summary>
public sealed class RgbImage
{
    public RgbImage(int width, int height, byte[] pixels)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentNullException.ThrowIfNull(pixels);
        if (pixels.LongLength != (long)width * height * 3)
        {
            throw new ArgumentException($"Expected {(long)width * height * 3} bytes for {width}x{height} RGB, got {pixels.LongLength}.", nameof(pixels));
        }

        Width = width;
        Height = height;
        Pixels = pixels;
    }

    public int Width { get; }

    public int Height { get; }

    /// <summary>Interleaved RGB bytes, length Width*Height*3.</summary>
    public byte[] Pixels { get; }

    /// <summary>RGB planes in [0, 1], channel-major (CHW): value = byte / 255.</summary>
    public float[] ToPlanes()
    {
        int n = Width * Height;
        var planes = new float[3 * n];
        for (int i = 0; i < n; i++)
        {
            planes[i] = Pixels[3 * i] / 255f;
            planes[n + i] = Pixels[3 * i + 1] / 255f;
            planes[2 * n + i] = Pixels[3 * i + 2] / 255f;
        }

        return planes;
    }
}
