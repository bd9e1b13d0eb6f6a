using System.Globalization;
using System.Text;

namespace PromptAD.Clip.IO;

/// <summary>
/// The one rule for every file a verb reads (images have theirs in ImageLoader, the same in spirit): it must be a
/// regular file — decided by stat before opening, since opening a FIFO blocks until a writer comes and a device never
/// ends — and no larger than what such a file can sensibly be, so that a wrong path (a disk image, /proc/kcore, a
/// video) fails at once naming the file instead of being read into memory. Errors are <see cref="IOException"/>s
/// (<see cref="FileNotFoundException"/> when missing) naming what the file is for, the path and the limit.
/// </summary>
public static class InputFile
{
    /// <summary>Small text inputs: prompts.json, shots files, job.json, metrics.json, request lists.</summary>
    public const long TextCap = 16L << 20;

    /// <summary>safetensors files are memory-mapped, never read whole: the cap only stops what cannot be one.</summary>
    public const long SafetensorsCap = 1L << 40;

    /// <summary>Throws unless <paramref name="path"/> is a regular file of at most <paramref name="maxBytes"/> bytes.</summary>
    /// <param name="what">What the file is for, for messages: "prompts file", "--shots-file".</param>
    public static void Check(string path, string what, long maxBytes)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        switch (FileKind.Of(full))
        {
            case FileKindType.Missing: throw new FileNotFoundException($"{Capital(what)} '{full}' does not exist.", full);
            case FileKindType.Directory: throw new IOException($"{Capital(what)} '{full}' is a folder; expected a file.");
            case FileKindType.Special: throw new IOException($"{Capital(what)} '{full}' is not a regular file (a FIFO, socket or device); not opened.");
        }
        long length = new FileInfo(full).Length;
        if (length > maxBytes)
            throw new IOException($"{Capital(what)} '{full}' is {Bytes(length)}; a {what} is at most {Bytes(maxBytes)}. Is this the right file?");
    }

    /// <summary>The whole file, checked first; reading stops at the cap even if the file grows meanwhile.</summary>
    public static byte[] ReadAllBytes(string path, string what, long maxBytes = TextCap)
    {
        Check(path, what, maxBytes);
        using var stream = new FileStream(Path.GetFullPath(path), FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var buffer = new MemoryStream();
        var chunk = new byte[1 << 16];
        int read;
        while ((read = stream.Read(chunk, 0, chunk.Length)) > 0)
        {
            if (buffer.Length + read > maxBytes)
                throw new IOException($"{Capital(what)} '{Path.GetFullPath(path)}' grew past {Bytes(maxBytes)} while being read.");
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    /// <summary>UTF-8 text (a byte-order mark is skipped).</summary>
    public static string ReadAllText(string path, string what, long maxBytes = TextCap)
    {
        byte[] bytes = ReadAllBytes(path, what, maxBytes);
        ReadOnlySpan<byte> span = bytes;
        if (span.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) span = span[3..];
        return Encoding.UTF8.GetString(span);
    }

    public static string[] ReadAllLines(string path, string what, long maxBytes = TextCap)
    {
        string[] lines = [.. ReadAllText(path, what, maxBytes).Split('\n').Select(l => l.TrimEnd('\r'))];
        return lines.Length > 0 && lines[^1].Length == 0 ? lines[..^1] : lines; // as File.ReadAllLines: no empty line after the last break
    }

    private static string Capital(string what) => what.Length > 0 && char.IsLower(what[0]) ? char.ToUpperInvariant(what[0]) + what[1..] : what;

    private static string Bytes(long n) => n >= 1L << 20
        ? (n / (double)(1L << 20)).ToString("0.#", CultureInfo.InvariantCulture) + " MiB"
        : n.ToString(CultureInfo.InvariantCulture) + " bytes";
}
