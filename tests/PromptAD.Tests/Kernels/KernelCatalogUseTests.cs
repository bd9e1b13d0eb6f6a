using System.Text.RegularExpressions;
using PromptAD.Kernels;
using PromptAD.Tests.Ops;

namespace PromptAD.Tests.Kernels;

/// <summary>Every compiled kernel is launched by the backend: an entry nobody launches is dead code to delete.</summary>
public sealed partial class KernelCatalogUseTests
{
    [Fact]
    public void EveryCatalogueEntryIsLaunchedByTheBackend()
    {
        string root = EmulatedKernels.RepositoryRoot();
        string backend = string.Join('\n', Directory.GetFiles(Path.Combine(root, "src", "Kernels", "Backend"), "*.cs").Select(File.ReadAllText));
        string catalog = File.ReadAllText(Path.Combine(root, "src", "Kernels", "KernelCatalog.cs"));
        var unused = new List<string>();
        foreach (var (file, entries) in KernelCatalog.EntriesByFile)
            foreach (string entry in entries)
            {
                // The constant's C# name, e.g. Rows.Splice for "splice_rows".
                var constant = ConstantName().Matches(catalog).First(m => m.Groups["value"].Value == entry).Groups["name"].Value;
                string family = ClassOf(catalog, constant, entry);
                if (!backend.Contains($"K.{family}.{constant}", StringComparison.Ordinal)) unused.Add($"{file}:{entry}");
            }
        Assert.True(unused.Count == 0, $"compiled but never launched: {string.Join(", ", unused)}");
    }

    private static string ClassOf(string catalog, string constant, string entry)
    {
        int at = catalog.IndexOf($"\"{entry}\"", StringComparison.Ordinal);
        return ClassName().Matches(catalog[..at]).Last().Groups[1].Value;
    }

    [GeneratedRegex("(?<name>[A-Z][A-Za-z0-9]*) = \"(?<value>[a-z0-9_]+)\"")]
    private static partial Regex ConstantName();

    [GeneratedRegex(@"public static class ([A-Za-z]+)")]
    private static partial Regex ClassName();
}
