using PromptAD.Files;

namespace PromptAD.Results;

/// <summary>An image that could not be read, and why (reported on stderr and in skipped.txt, left out of the results).</summary>
public sealed record SkippedImage(string Path, string Reason)
{
    /// <summary>skipped.txt: one "path TAB reason" line per image.</summary>
    public static void WriteList(string path, IReadOnlyList<SkippedImage> skipped) =>
        AtomicFile.WriteAllText(path, string.Concat(skipped.Select(s => s.Path + "\t" + s.Reason + "\n")));
}
