namespace PromptAD.Tests.Clip;

/// <summary>Locates the repository root (the folder with PromptAD.sln) and ../shared beside it.</summary>
internal static class ClipTestPaths
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string Shared => Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));

    public static string Golden(params string[] parts)
        => Path.Combine([RepoRoot, "tests", "PromptAD.Tests", "Golden", .. parts]);

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "PromptAD.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("PromptAD.sln not found above " + AppContext.BaseDirectory);
    }
}
