using System.Text.RegularExpressions;
using PromptAD.Tests.Ops;

namespace PromptAD.Tests.Architecture;

/// <summary>One source file of src/PromptAD: its path under that folder, its top folder ("" for Program.cs) and its text.</summary>
internal sealed record SourceFile(string Path, string Folder, string Text);

/// <summary>
/// Which top folders of src/PromptAD import which: a file imports a folder when it has a <c>using PromptAD.Folder…</c>
/// line (also <c>using static</c> and aliases) or names one of the folder's types qualified by it
/// (<c>Cli.BackendChoice</c>, <c>PromptAD.Cli.BackendChoice</c>). Namespaces follow folders (PromptAD.Results.Report lives
/// in Results/Report), so a folder is the first part of the namespace after PromptAD.
/// </summary>
internal static partial class FolderImports
{
    public static string SourceRoot => Path.Combine(EmulatedKernels.RepositoryRoot(), "src", "PromptAD");

    public static IReadOnlyList<SourceFile> Read(string root) =>
    [
        .. Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(root, f).Replace('\\', '/'))
            .Where(f => !f.StartsWith("bin/", StringComparison.Ordinal) && !f.StartsWith("obj/", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(f => new SourceFile(f, f.Contains('/') ? f[..f.IndexOf('/')] : "", File.ReadAllText(Path.Combine(root, f)))),
    ];

    /// <summary>(importing folder, imported folder) → the importing files, sorted.</summary>
    public static SortedDictionary<(string From, string To), SortedSet<string>> Edges(IReadOnlyList<SourceFile> files)
    {
        var folders = files.Select(f => f.Folder).Where(f => f.Length > 0).ToHashSet(StringComparer.Ordinal);
        var types = folders.ToDictionary(f => f, _ => new HashSet<string>(StringComparer.Ordinal), StringComparer.Ordinal);
        foreach (var file in files.Where(f => f.Folder.Length > 0))
            foreach (Match m in TopLevelType().Matches(file.Text))
                types[file.Folder].Add(m.Groups["name"].Value);

        var edges = new SortedDictionary<(string, string), SortedSet<string>>();
        void Add(SourceFile file, string to)
        {
            if (to == file.Folder || !folders.Contains(to)) return;
            if (!edges.TryGetValue((file.Folder, to), out var set)) edges[(file.Folder, to)] = set = new SortedSet<string>(StringComparer.Ordinal);
            set.Add(file.Path);
        }
        foreach (var file in files)
        {
            foreach (Match m in UsingLine().Matches(file.Text)) Add(file, m.Groups["folder"].Value);
            foreach (Match m in QualifiedName().Matches(CodeOnly(file.Text)))
                if (types.TryGetValue(m.Groups["folder"].Value, out var declared) && declared.Contains(m.Groups["type"].Value))
                    Add(file, m.Groups["folder"].Value);
        }
        return edges;
    }

    /// <summary>The text without comments and string literals, so that prose naming a type is not an import.</summary>
    internal static string CodeOnly(string text) => CommentOrString().Replace(text, " ");

    /// <summary>Every cycle's folders in order (first = last), or null when the imports form layers.</summary>
    public static List<string>? FindCycle(IEnumerable<(string From, string To)> edges)
    {
        var next = edges.GroupBy(e => e.From).ToDictionary(g => g.Key, g => g.Select(e => e.To).Order(StringComparer.Ordinal).ToList());
        var state = new Dictionary<string, int>(); // 1: on the current path, 2: done
        var path = new List<string>();
        List<string>? Visit(string node)
        {
            if (state.TryGetValue(node, out int s)) return s == 1 ? [.. path.Skip(path.IndexOf(node)), node] : null;
            state[node] = 1;
            path.Add(node);
            foreach (string to in next.GetValueOrDefault(node) ?? [])
                if (Visit(to) is { } cycle) return cycle;
            path.RemoveAt(path.Count - 1);
            state[node] = 2;
            return null;
        }
        foreach (string node in next.Keys.Order(StringComparer.Ordinal))
            if (Visit(node) is { } cycle) return cycle;
        return null;
    }

    [GeneratedRegex(@"^[ \t]*(?:global[ \t]+)?using[ \t]+(?:static[ \t]+)?(?:\w+[ \t]*=[ \t]*)?(?:global::)?PromptAD\.(?<folder>\w+)", RegexOptions.Multiline)]
    private static partial Regex UsingLine();

    // File-scoped namespaces: a top-level type starts its line.
    [GeneratedRegex(@"^(?:(?:public|internal|file|static|sealed|abstract|readonly|partial|ref|unsafe)\s+)*(?:class|record|struct|enum|interface)(?:\s+(?:class|struct))?\s+(?<name>\w+)", RegexOptions.Multiline)]
    private static partial Regex TopLevelType();

    [GeneratedRegex(@"(?<![\w.])(?:global::)?(?:PromptAD\.)?(?<folder>\w+)\.(?<type>\w+)\b")]
    private static partial Regex QualifiedName();

    [GeneratedRegex(@"//[^\n]*|/\*[\s\S]*?\*/|\$*""""""[\s\S]*?""""""|@""(?:[^""]|"""")*""|""(?:[^""\\\n]|\\.)*""|'(?:[^'\\\n]|\\.)'")]
    private static partial Regex CommentOrString();
}
