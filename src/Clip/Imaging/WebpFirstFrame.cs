using System.Buffers.Binary;

namespace PromptAD.Clip.Imaging;

/// <summary>
/// The first frame of an animated WebP as a still WebP file. ImageSharp 2.1 refuses animated WebP outright; like
/// multi-frame TIFF and GIF, the loader takes the first frame only, and it is cut out of the container here (its
/// ALPH and VP8/VP8L chunks rewrapped) so no other frame is ever decoded, however many the file claims.
/// Container layout: https://developers.google.com/speed/webp/docs/riff_container (RIFF, VP8X, ANIM, ANMF).
/// </summary>
internal static class WebpFirstFrame
{
    private const byte AnimationFlag = 0x02;
    private const byte AlphaFlag = 0x10;

    /// <summary>
    /// A still WebP of the first frame when the stream (seekable, at the file's start) holds an animated WebP; null
    /// for anything else (other formats and still WebP are decoded as they are). Reads only the headers and the first
    /// frame's bytes. Throws <see cref="ImageLoadException"/> for an animated file whose first frame cannot stand alone.
    /// </summary>
    public static byte[]? Extract(Stream file, string name)
    {
        long start = file.Position;
        Span<byte> header = stackalloc byte[30];
        if (file.ReadAtLeast(header, header.Length, throwOnEndOfStream: false) < header.Length
            || !header[..4].SequenceEqual("RIFF"u8) || !header.Slice(8, 4).SequenceEqual("WEBP"u8)
            || !header.Slice(12, 4).SequenceEqual("VP8X"u8) || (header[20] & AnimationFlag) == 0)
            return null;
        int canvasWidth = U24(header[24..]) + 1, canvasHeight = U24(header[27..]) + 1;
        // RIFF's own size bounds the chunks we walk, so a lying chunk size cannot send us past the file.
        long end = Math.Min(file.Length - start, 8L + BinaryPrimitives.ReadUInt32LittleEndian(header[4..]));
        Span<byte> chunk = stackalloc byte[8];
        for (long at = 12; at + 8 <= end;)
        {
            file.Position = start + at;
            file.ReadExactly(chunk);
            long size = BinaryPrimitives.ReadUInt32LittleEndian(chunk[4..]);
            long payload = at + 8;
            if (payload + size > end) break;
            if (chunk[..4].SequenceEqual("ANMF"u8))
            {
                var frame = new byte[size];
                file.ReadExactly(frame);
                return Still(frame, canvasWidth, canvasHeight, name);
            }
            at = payload + size + (size & 1);
        }
        throw new ImageLoadException(name, "animated WebP without a complete first frame (truncated or corrupt)");
    }

    private static byte[] Still(ReadOnlySpan<byte> frame, int canvasWidth, int canvasHeight, string name)
    {
        if (frame.Length < 16) throw new ImageLoadException(name, "animated WebP with a truncated first frame header");
        int x = 2 * U24(frame), y = 2 * U24(frame[3..]);
        int width = U24(frame[6..]) + 1, height = U24(frame[9..]) + 1;
        if (x != 0 || y != 0 || width != canvasWidth || height != canvasHeight)
            throw new ImageLoadException(name, $"animated WebP whose first frame ({width}x{height} at {x},{y}) does not cover the " +
                $"{canvasWidth}x{canvasHeight} canvas is not supported; save its first frame as PNG");
        ReadOnlySpan<byte> alpha = default, image = default;
        var data = frame[16..];
        for (int at = 0; at + 8 <= data.Length;)
        {
            long size = BinaryPrimitives.ReadUInt32LittleEndian(data[(at + 4)..]);
            if (at + 8 + size > data.Length) break;
            var chunk = data.Slice(at, 8 + (int)size);
            var fourCc = chunk[..4];
            if (fourCc.SequenceEqual("ALPH"u8)) alpha = chunk;
            else if (fourCc.SequenceEqual("VP8 "u8) || fourCc.SequenceEqual("VP8L"u8)) { image = chunk; break; }
            at += 8 + (int)size + (int)(size & 1);
        }
        if (image.IsEmpty) throw new ImageLoadException(name, "animated WebP whose first frame has no complete VP8/VP8L image data");

        // A lossy frame with alpha needs the extended header to carry its ALPH chunk; anything else stands alone.
        bool extended = !alpha.IsEmpty && image[..4].SequenceEqual("VP8 "u8);
        using var still = new MemoryStream();
        still.Write("RIFF\0\0\0\0WEBP"u8);
        if (extended)
        {
            Span<byte> vp8x = stackalloc byte[18];
            "VP8X"u8.CopyTo(vp8x);
            BinaryPrimitives.WriteUInt32LittleEndian(vp8x[4..], 10);
            vp8x[8] = AlphaFlag;
            WriteU24(vp8x[12..], width - 1);
            WriteU24(vp8x[15..], height - 1);
            still.Write(vp8x);
            WritePadded(still, alpha);
        }
        WritePadded(still, image);
        byte[] bytes = still.ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), (uint)(bytes.Length - 8));
        return bytes;
    }

    private static void WritePadded(Stream s, ReadOnlySpan<byte> chunk)
    {
        s.Write(chunk);
        if ((chunk.Length & 1) == 1) s.WriteByte(0);
    }

    private static int U24(ReadOnlySpan<byte> b) => b[0] | b[1] << 8 | b[2] << 16;

    private static void WriteU24(Span<byte> b, int v)
    {
        b[0] = (byte)v;
        b[1] = (byte)(v >> 8);
        b[2] = (byte)(v >> 16);
    }
}
