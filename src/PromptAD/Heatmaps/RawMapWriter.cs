using System.Buffers.Binary;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;
using PromptAD.Files;

namespace PromptAD.Heatmaps;

/// <summary>How raw score maps are written for downstream tools (--raw-maps).</summary>
public enum RawMapFormat
{
    None,

    /// <summary>16-bit grayscale PNG: pixel = round(65535 · clamp(score, 0, 1)), so score = pixel / 65535. PromptAD's
    /// pixel scores lie in [0, ½] (the fusion 1/(1/a + 1/b) of two scores in [0, 1]), so the PNG uses values up to 32768.</summary>
    Png16,

    /// <summary>Single-channel 32-bit IEEE float TIFF (uncompressed, little-endian): the scores themselves.</summary>
    Tiff,
}

/// <summary>Writes a raw score map (row-major floats) as a 16-bit PNG or a float TIFF, atomically.</summary>
public static class RawMapWriter
{
    public static string Extension(RawMapFormat format) => format switch
    {
        RawMapFormat.Png16 => ".png",
        RawMapFormat.Tiff => ".tiff",
        _ => throw new ArgumentOutOfRangeException(nameof(format)),
    };

    public static RawMapFormat Parse(string? value) => value switch
    {
        null or "" or "none" => RawMapFormat.None,
        "png16" => RawMapFormat.Png16,
        "tiff" => RawMapFormat.Tiff,
        _ => throw new ArgumentException($"raw map format '{value}' is not one of png16, tiff"),
    };

    public static void Write(string path, float[] map, int width, int height, RawMapFormat format)
    {
        ArgumentNullException.ThrowIfNull(map);
        if (map.LongLength != (long)width * height)
        {
            throw new ArgumentException($"Expected a {width}×{height} map, got {map.LongLength} values.", nameof(map));
        }

        switch (format)
        {
            case RawMapFormat.Png16:
                AtomicFile.Write(path, stream => WritePng16(stream, map, width, height));
                break;
            case RawMapFormat.Tiff:
                AtomicFile.Write(path, stream => WriteFloatTiff(stream, map, width, height));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(format));
        }
    }

    /// <summary>The 16-bit value a score is stored as.</summary>
    public static ushort ToPng16(float score) => (ushort)Math.Round(65535.0 * Math.Clamp(float.IsNaN(score) ? 0 : score, 0f, 1f));

    private static void WritePng16(Stream stream, float[] map, int width, int height)
    {
        using var image = new Image<L16>(width, height);
        image.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < height; y++)
            {
                Span<L16> row = rows.GetRowSpan(y);
                for (int x = 0; x < width; x++) row[x] = new L16(ToPng16(map[y * width + x]));
            }
        });
        image.Save(stream, new PngEncoder { ColorType = PngColorType.Grayscale, BitDepth = PngBitDepth.Bit16 });
    }

    /// <summary>
    /// A baseline TIFF written by hand (ImageSharp encodes no float TIFFs): header, the pixels as one strip, then one
    /// IFD with width, height, BitsPerSample 32, no compression, BlackIsZero, strip offset/rows/bytes, one sample
    /// per pixel, planar chunky and SampleFormat 3 (IEEE float).
    /// </summary>
    private static void WriteFloatTiff(Stream stream, float[] map, int width, int height)
    {
        const int header = 8;
        long dataBytes = 4L * map.Length;
        long ifdOffset = header + dataBytes;
        if (ifdOffset > uint.MaxValue) throw new ArgumentException("The map is too large for a TIFF file.");
        var head = new byte[header];
        head[0] = (byte)'I';
        head[1] = (byte)'I';
        BinaryPrimitives.WriteUInt16LittleEndian(head.AsSpan(2), 42);
        BinaryPrimitives.WriteUInt32LittleEndian(head.AsSpan(4), (uint)ifdOffset);
        stream.Write(head);
        var row = new byte[4 * width];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++) BinaryPrimitives.WriteSingleLittleEndian(row.AsSpan(4 * x), map[y * width + x]);
            stream.Write(row);
        }

        (ushort Tag, ushort Type, uint Value)[] entries =
        [
            (256, 4, (uint)width), // ImageWidth, LONG
            (257, 4, (uint)height), // ImageLength
            (258, 3, 32), // BitsPerSample, SHORT
            (259, 3, 1), // Compression: none
            (262, 3, 1), // PhotometricInterpretation: BlackIsZero
            (273, 4, header), // StripOffsets
            (277, 3, 1), // SamplesPerPixel
            (278, 4, (uint)height), // RowsPerStrip
            (279, 4, (uint)dataBytes), // StripByteCounts
            (284, 3, 1), // PlanarConfiguration: chunky
            (339, 3, 3), // SampleFormat: IEEE float
        ];
        var ifd = new byte[2 + 12 * entries.Length + 4];
        BinaryPrimitives.WriteUInt16LittleEndian(ifd, (ushort)entries.Length);
        for (int i = 0; i < entries.Length; i++)
        {
            Span<byte> e = ifd.AsSpan(2 + 12 * i, 12);
            BinaryPrimitives.WriteUInt16LittleEndian(e, entries[i].Tag);
            BinaryPrimitives.WriteUInt16LittleEndian(e[2..], entries[i].Type);
            BinaryPrimitives.WriteUInt32LittleEndian(e[4..], 1);
            if (entries[i].Type == 3) BinaryPrimitives.WriteUInt16LittleEndian(e[8..], (ushort)entries[i].Value);
            else BinaryPrimitives.WriteUInt32LittleEndian(e[8..], entries[i].Value);
        }

        stream.Write(ifd); // next-IFD offset 0 (the trailing 4 bytes)
    }
}
