using System.Security.Cryptography;
using System.Text;

namespace PromptAD.Output;

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
    /// Calls <paramref name="write"/> with a stream on a temporary file, then publishes it at <paramref name="path"/>.
    /// The parent folder is created when missing. Any exception from the callback propagates after clean-up.
    /// </summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);
        string fullPath = Path.GetFullPath(path);
        string? folder = Path.GetDirectoryName(fullPath);
        if (!string.IsNullOrEmpty(folder))
        {
            Directory.CreateDirectory(folder);
        }

        string tempPath = fullPath + ".tmp-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        try
        {
            using (var stream = new FileStream(tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(stream);

                // Data must be on disk before the rename publishes it, or a crash could expose an empty file.
                stream.Flush(flushToDisk: true);
            }

            File.Move(tempPath, fullPath, overwrite: true);
        }
        catch (IOException e)
        {
            TryDelete(tempPath);
            // The user knows the destination, not our temporary name ("No space left on device: 'x.tmp-…'").
            throw new IOException($"could not write '{fullPath}': {e.Message.Replace(tempPath, fullPath, StringComparison.Ordinal)}", e);
        }
        catch (UnauthorizedAccessException e)
        {
            TryDelete(tempPath);
            throw new UnauthorizedAccessException($"cannot write '{fullPath}': {e.Message.Replace(tempPath, fullPath, StringComparison.Ordinal)}", e);
        }
        catch
        {
            TryDelete(tempPath);
            throw;
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: the original failure is the one worth reporting.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
