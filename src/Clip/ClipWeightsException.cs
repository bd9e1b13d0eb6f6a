namespace PromptAD.Clip;

/// <summary>
/// A checkpoint that does not match its config. Lists every missing, unexpected and mis-shaped key at once, so
/// one run shows the whole mismatch (e.g. a wrong config rather than a single bad tensor).
/// </summary>
public sealed class ClipWeightsException : Exception
{
    public ClipWeightsException(string filePath, string configName, IReadOnlyList<string> missing,
        IReadOnlyList<string> unexpected, IReadOnlyList<string> misshaped)
        : base(Describe(filePath, configName, missing, unexpected, misshaped))
    {
        FilePath = filePath;
        Missing = missing;
        Unexpected = unexpected;
        Misshaped = misshaped;
    }

    /// <summary>A problem with one tensor's values (e.g. NaN), the file otherwise matching its config.</summary>
    public ClipWeightsException(string filePath, string problem)
        : base($"CLIP weights '{filePath}': {problem}")
    {
        FilePath = filePath;
        Missing = Unexpected = Misshaped = [];
    }

    /// <summary>How many names each list shows in the message; the rest are counted (204 names made a 16 KB line).</summary>
    public const int NamesShown = 5;

    public string FilePath { get; }
    public IReadOnlyList<string> Missing { get; }
    public IReadOnlyList<string> Unexpected { get; }

    /// <summary>"name: file shape [..], expected [..]" entries.</summary>
    public IReadOnlyList<string> Misshaped { get; }

    private static string Describe(string file, string config, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected, IReadOnlyList<string> misshaped)
    {
        var parts = new List<string>();
        if (missing.Count > 0) parts.Add($"{missing.Count} missing: {First(missing, ", ")}");
        if (unexpected.Count > 0) parts.Add($"{unexpected.Count} unexpected: {First(unexpected, ", ")}");
        if (misshaped.Count > 0) parts.Add($"{misshaped.Count} mis-shaped: {First(misshaped, "; ")}");
        return $"CLIP weights '{file}' do not match config '{config}': {string.Join(" | ", parts)}";
    }

    private static string First(IReadOnlyList<string> names, string separator) =>
        string.Join(separator, names.Take(NamesShown)) + (names.Count > NamesShown ? $"{separator}… and {names.Count - NamesShown} more" : "");
}
