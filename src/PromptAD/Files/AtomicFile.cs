using System.Text;
using PromptAD.Tensors.SafeTensors;

namespace PromptAD.Files;

/// <summary>
/// Writes result files so that a reader never sees a half-written one: the content goes to a temporary file in the
/// same folder (so the rename stays on one file system and is atomic), is flushed to disk, then renamed over the
/// target. On failure the temporary file is deleted and an earlier file at the path is left intact — a crashed or
/// interrupted run never clobbers the results of a previous one.
/// </summary>
public static class AtomicFile
{
    private static readonly UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Writes <paramref name="contents"/> as UTF-8 without a byte-order mark (CSV/JSON readers choke on BOMs).</summary>
    public static void WriteAllText(string path, string contents)
    {
        ArgumentNullException.ThrowIfNull(contents);
        Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, Utf8NoBom, bufferSize: 1 << 16, leaveOpen: true);
            writer.Write(contents);
        });
    }

    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        // A span cannot be captured by the callback; copy once (result files are small).
        byte[] copy = bytes.ToArray();
        Write(path, stream => stream.Write(copy));
    }

    /// <summary>
    /// Calls <paramref name="write"/> with a stream on a temporary file, then publishes it at <paramref name="path"/>
    /// (<see cref="AtomicWrite"/>). The parent folder is created when missing. Any exception from the callback
    /// propagates after clean-up; I/O errors name <paramref name="path"/>, not the temporary file.
    /// </summary>
    public static void Write(string path, Action<Stream> write) => AtomicWrite.Write(path, write);
}
