using PromptAD.Clip.IO;

namespace PromptAD.Files;

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
        // Naming the input it is beats "is a regular file".
        foreach (var input in Existing(inputs))
            if (PathsEqual(out_, FileKind.Resolved(input.Path!)) && FileKind.Of(input.Path!) != FileKindType.Directory)
                throw new ArgumentException($"{option} '{outPath}' is the {input.What} '{input.Path}'; expected a results folder. Choose another path.");
        CheckKind(outPath, option, FileKindType.Directory);
        CheckParent(out_, option);
        foreach (var input in Existing(inputs))
        {
            string resolved = FileKind.Resolved(input.Path!);
            if (FileKind.Of(input.Path!) == FileKindType.Directory && (PathsEqual(out_, resolved) || IsInside(out_, resolved)))
                throw new ArgumentException($"{option} '{outPath}' is inside the {input.What} '{input.Path}'; results written there would become part of the input. Choose a folder outside it.");
            foreach (string name in written)
            {
                // Resolved: a subfolder that is a link (maps/ → the dataset) is where the files really go.
                string target = FileKind.Resolved(Path.Combine(out_, name.TrimEnd('/')));
                bool inside = name.EndsWith('/') ? PathsEqual(resolved, target) || IsInside(resolved, target) : PathsEqual(resolved, target);
                if (inside || FileKind.SameFile(target, input.Path!))
                    throw new ArgumentException($"{option} '{outPath}': the {input.What} '{input.Path}' is where this command writes '{name}'; it would be overwritten. Choose another folder.");
            }
        }
    }

    /// <summary>
    /// Checks a folder a verb fills with files of fixed names (demo's data, weights, model, results): it must be new
    /// or empty, since those names would replace what is there, and outside any dataset (<see cref="OutsideDatasets"/>).
    /// </summary>
    public static void NewFolder(string outPath, string option)
    {
        Folder(outPath, option, []);
        if (Directory.Exists(outPath) && Directory.EnumerateFileSystemEntries(outPath).Any())
            throw new ArgumentException($"{option} '{outPath}' is not empty; this command writes files of fixed names there and would replace them. Choose a new or empty folder.");
        OutsideDatasets(outPath, option);
    }

    /// <summary>
    /// Refuses an output inside a dataset in the MVTec layout — below a category folder (one holding train/good) or
    /// directly in a dataset root (a folder holding such categories) — where written files would become part of the
    /// data: a folder under test/ reads as a defect type, and a training run would trip over it later. For outputs
    /// whose verb does not know the dataset (demo, serve --heatmaps); the others name it as an input.
    /// </summary>
    public static void OutsideDatasets(string outPath, string option)
    {
        string resolved = FileKind.Resolved(outPath);
        bool nearest = true;
        for (string? p = resolved; p is not null; p = Path.GetDirectoryName(p))
        {
            if (!Directory.Exists(p)) continue;
            bool category = IsCategory(p);
            bool root = nearest && !PathsEqual(p, resolved) && SafeSubfolders(p).Any(IsCategory);
            if (category || root)
                throw new ArgumentException($"{option} '{outPath}' is inside the dataset {(category ? "category" : "folder")} '{p}'; files written there would become part of the data. Choose a folder outside it.");
            if (!PathsEqual(p, resolved)) nearest = false;
        }
    }

    private static bool IsCategory(string folder) => Directory.Exists(Path.Combine(folder, "train", "good"));

    private static IEnumerable<string> SafeSubfolders(string folder)
    {
        try { return Directory.GetDirectories(folder); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return []; }
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
