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

    public string FilePath { get; }
    public IReadOnlyList<string> Missing { get; }
    public IReadOnlyList<string> Unexpected { get; }

    /// <summary>"name: file shape [..], expected [..]" entries.</summary>
    public IReadOnlyList<string> Misshaped { get; }

    private static string Describe(string file, string config, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected, IReadOnlyList<string> misshaped)
    {
        var parts = new List<string>();
        if (missing.Count > 0) parts.Add($"{missing.Count} missing: {string.Join(", ", missing)}");
        if (unexpected.Count > 0) parts.Add($"{unexpected.Count} unexpected: {string.Join(", ", unexpected)}");
        if (misshaped.Count > 0) parts.Add($"{misshaped.Count} mis-shaped: {string.Join("; ", misshaped)}");
        return $"CLIP weights '{file}' do not match config '{config}': {string.Join(" | ", parts)}";
    }
}
