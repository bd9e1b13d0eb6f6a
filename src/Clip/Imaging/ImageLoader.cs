using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Memory;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace PromptAD.Clip.Imaging;

/// <summary>
/// Decodes PNG, JPEG, BMP, TIFF (and GIF/TGA/WebP, whatever ImageSharp 2.1 knows) into 8-bit RGB.
/// </summary>
/// <remarks>
/// Conversions follow Pillow's <c>convert("RGB")</c>: grayscale is replicated, palette colours are
/// looked up, alpha is dropped (not composited). 16-bit samples keep their high byte, which is what
/// Pillow does for 16-bit RGB; Pillow clips 16-bit grayscale to 255 instead, which we deliberately
/// do not copy. EXIF orientation is applied (Pillow's Image.open does not; the reference uses
/// ImageOps.exif_transpose). Only the first frame of a multi-frame file (TIFF, GIF, animated WebP) is decoded. A truncated PNG or JPEG is an
/// <see cref="ImageLoadException"/> (see <see cref="ImageCompleteness"/>), as is any path that is not a regular file. JPEG decoding is
/// ImageSharp's, not libjpeg's, so JPEG pixels can differ from Pillow's by a level or two.
/// </remarks>
public static class ImageLoader
{
    // NativeAOT: ImageSharp 2.1's EXIF reader builds an ExifDataType[] through reflection, which fails at
    // run time ("missing native code") on JPEG/TIFF/PNG files carrying EXIF unless the array type is
    // constructed somewhere in compiled code. Allocating one here makes the AOT compiler generate it.
    private static readonly Array AotRoots = new ExifDataType[1];

    /// <summary>
    /// Multi-frame TIFF and GIF decode their first frame only: every other frame would be decoded (and its size
    /// checked only afterwards) just to be dropped, so a small file of many large frames could take gigabytes.
    /// </summary>
    private static readonly Configuration Decoding = FirstFrameOnly();

    private static Configuration FirstFrameOnly()
    {
        var c = Configuration.Default.Clone();
        // A small pool: ImageSharp's default keeps up to a large share of RAM of freed pixel buffers for reuse, so a
        // service that once decoded a few huge images would hold gigabytes while idle. Larger buffers are freed at once.
        c.MemoryAllocator = MemoryAllocator.Create(new MemoryAllocatorOptions { MaximumPoolSizeMegabytes = 32 });
        c.ImageFormatsManager.SetDecoder(SixLabors.ImageSharp.Formats.Tiff.TiffFormat.Instance,
            new SixLabors.ImageSharp.Formats.Tiff.TiffDecoder { DecodingMode = SixLabors.ImageSharp.Metadata.FrameDecodingMode.First });
        c.ImageFormatsManager.SetDecoder(SixLabors.ImageSharp.Formats.Gif.GifFormat.Instance,
            new SixLabors.ImageSharp.Formats.Gif.GifDecoder { DecodingMode = SixLabors.ImageSharp.Metadata.FrameDecodingMode.First });
        return c;
    }

    /// <summary>Hands the pixel buffers ImageSharp keeps for reuse back to the system (after a burst of large images).</summary>
    public static void ReleaseRetainedMemory() => Decoding.MemoryAllocator.ReleaseRetainedResources();

    public static RgbImage Load(string path, ImageLoadLimits? limits = null)
    {
        try
        {
            using FileStream stream = OpenFile(path);
            return Load(stream, path, limits);
        }
        catch (IOException e)
        {
            throw new ImageLoadException(path, e.Message, e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new ImageLoadException(path, e.Message, e);
        }
    }

    /// <summary>
    /// Width and height from the header alone (nothing decoded), checked against the limits: what decoding would cost,
    /// known before any pixel buffer exists. The stream's position is restored.
    /// </summary>
    public static (int Width, int Height) Dimensions(Stream stream, string name, ImageLoadLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        long start = stream.Position;
        try
        {
            // As Load: an animated WebP is measured by the still it decodes.
            Stream measured = WebpFirstFrame.Extract(stream, name) is { } still ? new MemoryStream(still) : stream;
            if (ReferenceEquals(measured, stream)) stream.Position = start;
            IImageInfo? info = Image.Identify(Decoding, measured);
            if (info is null) throw new ImageLoadException(name, "unsupported or unrecognized image format");
            CheckLimits(name, info.Width, info.Height, limits ?? ImageLoadLimits.Default);
            return (info.Width, info.Height);
        }
        catch (Exception e) when (e is UnknownImageFormatException or ImageFormatException or InvalidImageContentException or NotSupportedException
                                      or InvalidOperationException or ArgumentException or IndexOutOfRangeException or EndOfStreamException)
        {
            throw new ImageLoadException(name, "unsupported or unrecognized image format: " + e.Message, e);
        }
        finally
        {
            stream.Position = start;
        }
    }

    /// <inheritdoc cref="Dimensions(Stream, string, ImageLoadLimits?)"/>
    public static (int Width, int Height) Dimensions(string path, ImageLoadLimits? limits = null)
    {
        try
        {
            using FileStream stream = OpenFile(path);
            return Dimensions(stream, path, limits);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ImageLoadException(path, e.Message, e);
        }
    }

    /// <summary>Opens an image file for reading; decided without opening that it is one: a FIFO named *.png would block the open until a writer appears, a device never ends.</summary>
    private static FileStream OpenFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        switch (IO.FileKind.Of(path))
        {
            case IO.FileKindType.Missing: throw new ImageLoadException(path, "file not found");
            case IO.FileKindType.Directory: throw new ImageLoadException(path, "is a folder, not an image file");
            case IO.FileKindType.Special: throw new ImageLoadException(path, "not a regular file (a FIFO, socket or device); not opened");
        }
        return File.OpenRead(path);
    }

    /// <summary>Decodes from a seekable stream; <paramref name="name"/> is used in error messages.</summary>
    public static RgbImage Load(Stream stream, string name, ImageLoadLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(name);
        limits ??= ImageLoadLimits.Default;
        GC.KeepAlive(AotRoots);
        if (!stream.CanSeek)
        {
            var copy = new MemoryStream();
            stream.CopyTo(copy);
            copy.Position = 0;
            stream = copy;
        }

        long start = stream.Position;
        try
        {
            if (ImageCompleteness.Problem(stream, limits.MaxPixels) is { } incomplete)
            {
                throw new ImageLoadException(name, incomplete);
            }

            stream.Position = start;
            if (WebpFirstFrame.Extract(stream, name) is { } still)
            {
                stream = new MemoryStream(still);
                start = 0;
            }

            stream.Position = start;
            IImageInfo? info = Image.Identify(Decoding, stream);
            if (info is null)
            {
                throw new ImageLoadException(name, "unsupported or unrecognized image format");
            }

            CheckLimits(name, info.Width, info.Height, limits);
            stream.Position = start;
            using Image image = Image.Load(Decoding, stream);

            // Identify reads only the header; re-check what the decoder actually produced.
            CheckLimits(name, image.Width, image.Height, limits);
            Image first = image.Frames.Count > 1 ? image.Frames.CloneFrame(0) : image;
            try
            {
                first.Mutate(x => x.AutoOrient());
                return ToRgb(first);
            }
            finally
            {
                if (!ReferenceEquals(first, image))
                {
                    first.Dispose();
                }
            }
        }
        catch (ImageLoadException)
        {
            throw;
        }
        catch (UnknownImageFormatException e)
        {
            throw new ImageLoadException(name, "unsupported or unrecognized image format", e);
        }
        catch (InvalidImageContentException e)
        {
            throw new ImageLoadException(name, "corrupt or truncated image data: " + e.Message, e);
        }
        catch (ImageFormatException e)
        {
            throw new ImageLoadException(name, "invalid image: " + e.Message, e);
        }
        catch (Exception e) when (e is NotSupportedException or InvalidOperationException or ArgumentException
                                      or IndexOutOfRangeException or EndOfStreamException or IOException
                                      or OutOfMemoryException or InvalidMemoryOperationException)
        {
            // Decoders surface damaged files in many ways; the caller needs one exception type naming the file.
            throw new ImageLoadException(name, $"decoding failed ({e.GetType().Name}): {e.Message}", e);
        }
    }

    private static void CheckLimits(string name, int width, int height, ImageLoadLimits limits)
    {
        if (width <= 0 || height <= 0)
        {
            throw new ImageLoadException(name, $"invalid dimensions {width}x{height}");
        }

        if (width > limits.MaxWidth || height > limits.MaxHeight || (long)width * height > limits.MaxPixels)
        {
            throw new ImageLoadException(
                name,
                $"dimensions {width}x{height} exceed the limit ({limits.MaxWidth}x{limits.MaxHeight}, {limits.MaxPixels} pixels)");
        }
    }

    private static RgbImage ToRgb(Image image)
    {
        switch (image)
        {
            case Image<Rgb24> rgb:
                return FromRgb24(rgb);
            case Image<Rgba32> or Image<L8> or Image<La16> or Image<Bgr24> or Image<Bgra32> or Image<Argb32>
                or Image<Abgr32> or Image<Bgra5551> or Image<Bgr565> or Image<Bgra4444>:
                // 8-bit (or narrower) sources: ImageSharp's conversion to Rgb24 is exact (drops alpha).
                using (Image<Rgb24> rgb = image.CloneAs<Rgb24>())
                {
                    return FromRgb24(rgb);
                }

            default:
                // 16-bit and other wide formats: widen losslessly to 16 bits, then keep the high byte.
                using (Image<Rgba64> wide = image.CloneAs<Rgba64>())
                {
                    return FromRgba64HighByte(wide);
                }
        }
    }

    private static RgbImage FromRgb24(Image<Rgb24> image)
    {
        int w = image.Width;
        var pixels = new byte[checked(w * image.Height * 3)];
        image.ProcessPixelRows(accessor =>
        {
            for (int y = 0; y < accessor.Height; y++)
            {
                Span<Rgb24> row = accessor.GetRowSpan(y);
                System.Runtime.InteropServices.MemoryMarshal.AsBytes(row).CopyTo(pixels.AsSpan(y * w * 3, w * 3));
            }
        });
        return new RgbImage(w, image.Height, pixels);
    }

    private static RgbImage FromRgba64HighByte(Image<Rgba64> image)
    {
        int w = image.Width;
        var pixels = new byte[checked(w * image.Height * 3)];
        image.ProcessPixelRows(accessor =>
        {
            for (int y = 0; y < accessor.Height; y++)
            {
                Span<Rgba64> row = accessor.GetRowSpan(y);
                int o = y * w * 3;
                for (int x = 0; x < row.Length; x++)
                {
                    pixels[o++] = (byte)(row[x].R >> 8);
                    pixels[o++] = (byte)(row[x].G >> 8);
                    pixels[o++] = (byte)(row[x].B >> 8);
                }
            }
        });
        return new RgbImage(w, image.Height, pixels);
    }
}
