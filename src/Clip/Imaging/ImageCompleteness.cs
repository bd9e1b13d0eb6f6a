namespace PromptAD.Clip.Imaging;

/// <summary>
/// Tells a complete PNG or JPEG from a truncated one before decoding. ImageSharp decodes a JPEG cut short as far as
/// it goes and fills the rest with grey (and a PNG whose image data stops early, with zeros), so a damaged file would
/// be scored as if it were whole. A PNG is complete when its chunk chain reaches IEND inside the file; a JPEG when its
/// marker segments reach a scan (SOS) and an end-of-image marker (FF D9) follows it: inside entropy-coded data a
/// 0xFF byte is always followed by 0x00 or a restart marker, so FF D9 there can only be the real end — and when its
/// image data is long enough for the size its header declares: Huffman coding spends at least one bit per 8×8 block
/// (every block's DC difference has a code), so a header claiming 16000×6000 over a tiny image's data, closed with an
/// end marker, is a cut file too. Other formats
/// are left to their decoders (TIFF, BMP and GIF decoders fail on truncation).
/// </summary>
internal static class ImageCompleteness
{
    private static ReadOnlySpan<byte> PngSignature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Null when complete (or not PNG/JPEG), else what is missing. Leaves the stream position unspecified.</summary>
    /// <param name="maxPixels">A JPEG declaring more is left to the decoder's limits (a header bomb, not a cut file).</param>
    public static string? Problem(Stream stream, long maxPixels = long.MaxValue)
    {
        long start = stream.Position;
        Span<byte> head = stackalloc byte[8];
        int n = ReadAtMost(stream, head);
        stream.Position = start;
        if (n == 8 && head.SequenceEqual(PngSignature)) return PngProblem(stream, start);
        if (n >= 2 && head[0] == 0xFF && head[1] == 0xD8) return JpegProblem(stream, start, maxPixels);
        return null;
    }

    private static string? PngProblem(Stream s, long start)
    {
        long pos = start + 8, end = s.Length;
        Span<byte> chunk = stackalloc byte[8];
        while (true)
        {
            s.Position = pos;
            if (ReadAtMost(s, chunk) < 8) return $"truncated PNG: the file ends at byte {end - start} before the IEND chunk";
            long length = (uint)(chunk[0] << 24 | chunk[1] << 16 | chunk[2] << 8 | chunk[3]);
            bool isEnd = chunk[4] == (byte)'I' && chunk[5] == (byte)'E' && chunk[6] == (byte)'N' && chunk[7] == (byte)'D';
            long next = pos + 8 + length + 4;
            if (next > end) return $"truncated PNG: chunk '{System.Text.Encoding.ASCII.GetString(chunk[4..8])}' at byte {pos - start} runs past the end of the file ({end - start} bytes)";
            if (isEnd) return null;
            pos = next;
        }
    }

    private static string? JpegProblem(Stream s, long start, long maxPixels)
    {
        long end = s.Length;
        long pos = start + 2;
        Span<byte> two = stackalloc byte[2];
        Span<byte> frame = stackalloc byte[5];
        long blocks = 0; // 8×8 blocks of the full-resolution component, from a Huffman-coded frame header
        // Marker segments up to the first scan.
        while (true)
        {
            s.Position = pos;
            int b;
            do { b = s.ReadByte(); } while (b == 0xFF);
            if (b < 0) return "truncated JPEG: the file ends before the first scan";
            pos = s.Position;
            if (b == 0xD9) return "JPEG ends before any scan (no image data)";
            if (b is >= 0xD0 and <= 0xD7 or 0x01) continue; // markers without a length
            if (ReadAtMost(s, two) < 2) return "truncated JPEG: the file ends inside a marker segment";
            int length = two[0] << 8 | two[1];
            if (length < 2 || pos + length > end) return $"truncated JPEG: marker 0x{b:X2} at byte {pos - start - 2} runs past the end of the file ({end - start} bytes)";
            if (b is >= 0xC0 and <= 0xC3 or >= 0xC5 and <= 0xC7 && length >= 7 && ReadAtMost(s, frame) == 5)
            {
                long width = frame[3] << 8 | frame[4], height = frame[1] << 8 | frame[2];
                if (width * height <= maxPixels) blocks = (width + 7) / 8 * ((height + 7) / 8);
            }
            pos += length;
            if (b == 0xDA) break;
        }
        // The end-of-image marker must follow.
        s.Position = pos;
        long scanStart = pos;
        var buffer = new byte[1 << 16];
        bool previousFf = false;
        int read;
        while ((read = s.Read(buffer, 0, buffer.Length)) > 0)
        {
            for (int i = 0; i < read; i++)
            {
                if (previousFf && buffer[i] == 0xD9)
                {
                    long data = s.Position - read + i - 1 - scanStart;
                    if (data * 8 < blocks)
                        return $"truncated JPEG: {data} bytes of image data cannot hold the {blocks} blocks of the size its header declares (at least {(blocks + 7) / 8} bytes); the image data was cut";
                    return null;
                }
                previousFf = buffer[i] == 0xFF;
            }
        }
        return $"truncated JPEG: no end-of-image marker after the image data ({end - start} bytes; the bottom of the image is missing)";
    }

    private static int ReadAtMost(Stream s, Span<byte> into)
    {
        int total = 0;
        while (total < into.Length)
        {
            int r = s.Read(into[total..]);
            if (r == 0) break;
            total += r;
        }
        return total;
    }
}
