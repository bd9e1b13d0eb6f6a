using PromptAD.Prompting;


namespace PromptAD.Jobs;

/// <summary>
/// Where the prompt words come from: <c>prompts.json</c> (generic + per-category anomaly states, class-name words,
/// SPEC §5.1) when found, else the generic states of SPEC §5.1 built in, with the folder name's words as the class word.
/// The file is looked for at --prompts, then $PROMPTAD_PROMPTS, then beside the executable, then at
/// <c>shared/data/prompts.json</c> or <c>../shared/data/prompts.json</c> from the current folder upwards.
/// </summary>
internal sealed class PromptSource
{
    public const string Variable = "PROMPTAD_PROMPTS";

    /// <summary>SPEC §5.1's generic anomaly states: enough for any category, e.g. a custom dataset.</summary>
    public static readonly IReadOnlyList<string> BuiltInGenericStates =
        ["damaged {}", "flawed {}", "abnormal {}", "imperfect {}", "blemished {}", "{} with flaw", "{} with defect", "{} with damage"];

    private readonly PromptStates? _file;

    private PromptSource(PromptStates? file, string? path)
    {
        _file = file;
        Path = path;
    }

    /// <summary>The prompts file used, or null for the built-in generic states.</summary>
    public string? Path { get; }

    public string Describe => Path ?? "built-in generic states (no prompts.json found; give one for category-specific states)";

    public static PromptSource Resolve(string? explicitPath)
    {
        if (explicitPath is not null) return new PromptSource(PromptStates.Load(explicitPath), System.IO.Path.GetFullPath(explicitPath));
        // A variable naming a file is an explicit choice too: a typo must not fall back to other prompts silently.
        if (Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } named)
        {
            if (!System.IO.Path.Exists(named))
                throw new FileNotFoundException($"${Variable} names the prompts file '{System.IO.Path.GetFullPath(named)}', which does not exist; fix or unset it.", named);
            return new PromptSource(PromptStates.Load(named), System.IO.Path.GetFullPath(named));
        }
        foreach (var candidate in Candidates())
            if (File.Exists(candidate)) return new PromptSource(PromptStates.Load(candidate), System.IO.Path.GetFullPath(candidate));
        return new PromptSource(null, null);
    }

    /// <summary>The generic states followed by the category's own (none when the file does not know it).</summary>
    public IReadOnlyList<string> StatesFor(string category) =>
        _file is null ? BuiltInGenericStates : Prompting.PromptSet.StatesFor(_file, category);

    public string ClassName(string category) => _file?.ClassName(category) ?? PromptStates.FolderWords(category);

    private static IEnumerable<string> Candidates()
    {
        yield return System.IO.Path.Combine(AppContext.BaseDirectory, "prompts.json");
        for (var d = new DirectoryInfo(Environment.CurrentDirectory); d is not null; d = d.Parent)
        {
            yield return System.IO.Path.Combine(d.FullName, "shared", "data", "prompts.json");
            yield return System.IO.Path.Combine(d.FullName, "..", "shared", "data", "prompts.json");
        }
    }
}
