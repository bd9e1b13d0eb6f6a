using System.Security.Cryptography;

namespace PromptAD.Tensors.SafeTensors;

/// <summary>
/// Writes a file so that a reader never sees a half-written one: the content goes to a temporary file in the same
/// folder (so the rename stays on one file system and is atomic), is flushed to disk, then renamed over the target.
/// On failure the temporary file is deleted and an earlier file at the path is left intact. Errors name the
/// destination, never the temporary file (which the user has never heard of). The parent folder is created when
/// missing. Used for model files here and for every result file (PromptAD's AtomicFile).
/// </summary>
public static class AtomicWrite
{
    /// <summary>Temporary files are named <c>&lt;target&gt;.tmp-&lt;16 hex digits&gt;</c>; a killed writer can leave one.</summary>
    public const string TempMarker = ".tmp-";

    public static void Write(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);
        string fullPath = Path.GetFullPath(path);
        if (Path.GetDirectoryName(fullPath) is { Length: > 0 } folder) Directory.CreateDirectory(folder);
        string tempPath = fullPath + TempMarker + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        try
        {
            using (var stream = new FileStream(tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(stream);

                // Data must be on disk before the rename publishes it, or a crash could expose an empty file.
                stream.Flush(flushToDisk: true);
            }

            File.Move(tempPath, fullPath, overwrite: true);
            RemoveStaleTemps(fullPath);
        }
        catch (IOException e)
        {
            TryDelete(tempPath);
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

    /// <summary>Temporary files untouched this long belong to a dead writer (a live one writes, then renames at once).</summary>
    public static readonly TimeSpan StaleAfter = TimeSpan.FromMinutes(1);

    /// <summary>
    /// A writer killed between writing its temporary file and the rename leaves <c>&lt;target&gt;.tmp-&lt;hex&gt;</c>
    /// behind; once a write of the same target has succeeded, those leftovers go. Only names of exactly our pattern
    /// and files unchanged for <see cref="StaleAfter"/>, so a concurrent writer of the same target keeps its file.
    /// </summary>
    private static void RemoveStaleTemps(string fullPath)
    {
        if (Path.GetDirectoryName(fullPath) is not { Length: > 0 } folder) return;
        string prefix = Path.GetFileName(fullPath) + TempMarker;
        try
        {
            foreach (string temp in Directory.EnumerateFiles(folder))
            {
                string name = Path.GetFileName(temp);
                if (name.Length != prefix.Length + 16 || !name.StartsWith(prefix, StringComparison.Ordinal)
                    || name.AsSpan(prefix.Length).ContainsAnyExcept("0123456789abcdef")) continue;
                if (DateTime.UtcNow - File.GetLastWriteTimeUtc(temp) >= StaleAfter) TryDelete(temp);
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
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
