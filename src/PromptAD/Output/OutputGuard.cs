using PromptAD.Clip.IO;

namespace PromptAD.Output;

/// <summary>An input of a verb: what it is for messages ("weights file", "dataset") and its path.</summary>
public readonly record struct GuardedInput(string What, string? Path);

/// <summary>
/// Outputs never touch inputs. Every verb calls this before any work: an output path that resolves (through symbolic
/// and hard links) to one of the verb's input files, lies inside a dataset or image folder in use, or is anything
/// but a regular file or folder (a FIFO, device node, socket, or a link to one) is refused with a usage error, as is
/// a file where a folder is expected and the reverse. For an output folder, the names the verb writes into it
/// (<c>metrics.json</c>, <c>heatmaps/</c>, …) must not hold an input either.
/// </summary>
public static class OutputGuard
{
    /// <summary>Checks an output file (train's model, encode's features).</summary>
    public static void File(string outPath, string option, params GuardedInput[] inputs)
    {
        string out_ = FileKind.Resolved(outPath);
        CheckKind(outPath, option, FileKindType.Regular);
        CheckParent(out_, option);
        foreach (var input in Existing(inputs))
        {
            if (FileKind.SameFile(outPath, input.Path!) || PathsEqual(out_, FileKind.Resolved(input.Path!)))
                throw new ArgumentException($"{option} '{outPath}' is the {input.What} '{input.Path}'; writing it would destroy an input. Choose another path.");
            if (FileKind.Of(input.Path!) == FileKindType.Directory && IsInside(out_, FileKind.Resolved(input.Path!)))
                throw new ArgumentException($"{option} '{outPath}' is inside the {input.What} '{input.Path}'; results must not be written into an input folder. Choose a path outside it.");
        }
    }

    /// <summary>
    /// Checks an output folder; <paramref name="written"/> are the names the verb writes into it (a trailing '/' marks a
    /// subfolder it fills).
    /// </summary>
    public static void Folder(string outPath, string option, IReadOnlyList<string> written, params GuardedInput[] inputs)
    {
        string out_ = FileKind.Resolved(outPath);
        CheckKind(outPath, option, FileKindType.Directory);
        CheckParent(out_, option);
        foreach (var input in Existing(inputs))
        {
            string resolved = FileKind.Resolved(input.Path!);
            if (PathsEqual(out_, resolved) && FileKind.Of(input.Path!) != FileKindType.Directory)
                throw new ArgumentException($"{option} '{outPath}' is the {input.What} '{input.Path}'; expected a results folder. Choose another path.");
            if (FileKind.Of(input.Path!) == FileKindType.Directory && (PathsEqual(out_, resolved) || IsInside(out_, resolved)))
                throw new ArgumentException($"{option} '{outPath}' is inside the {input.What} '{input.Path}'; results written there would become part of the input. Choose a folder outside it.");
            foreach (string name in written)
            {
                string target = Path.Combine(out_, name.TrimEnd('/'));
                bool inside = name.EndsWith('/') ? PathsEqual(resolved, target) || IsInside(resolved, target) : PathsEqual(resolved, target);
                if (inside || FileKind.SameFile(target, input.Path!))
                    throw new ArgumentException($"{option} '{outPath}': the {input.What} '{input.Path}' is where this command writes '{name}'; it would be overwritten. Choose another folder.");
            }
        }
    }

    private static IEnumerable<GuardedInput> Existing(GuardedInput[] inputs) =>
        inputs.Where(i => i.Path is not null && FileKind.Of(i.Path) != FileKindType.Missing);

    private static void CheckKind(string path, string option, FileKindType expected)
    {
        var kind = FileKind.Of(path);
        if (kind == FileKindType.Missing || kind == expected) return;
        string wanted = expected == FileKindType.Directory ? "a folder" : "a file";
        throw new ArgumentException($"{option} '{path}' is {FileKind.Describe(kind)}; expected {wanted} to write results into.");
    }

    /// <summary>The nearest existing ancestor must be a folder, or the write fails late with an obscure error.</summary>
    private static void CheckParent(string resolved, string option)
    {
        for (string? p = Path.GetDirectoryName(resolved); p is not null; p = Path.GetDirectoryName(p))
        {
            var kind = FileKind.Of(p);
            if (kind == FileKindType.Missing) continue;
            if (kind != FileKindType.Directory)
                throw new ArgumentException($"{option}: '{p}' is {FileKind.Describe(kind)}, so nothing can be written below it.");
            return;
        }
    }

    private static StringComparison Comparison => OperatingSystem.IsLinux() ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase;

    private static bool PathsEqual(string a, string b) => string.Equals(Trim(a), Trim(b), Comparison);

    private static bool IsInside(string path, string folder) =>
        Trim(path).StartsWith(Trim(folder) + Path.DirectorySeparatorChar, Comparison);

    private static string Trim(string p) => p.Length > 1 ? p.TrimEnd(Path.DirectorySeparatorChar) : p;
}
