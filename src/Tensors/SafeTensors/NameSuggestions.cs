namespace PromptAD.Tensors.SafeTensors;

/// <summary>
/// Picks the stored names closest to a missing one, so "tensor not found" errors point at the likely typo or
/// prefix mismatch (e.g. "visual.transformer..." vs "vision_model.encoder...").
/// </summary>
internal static class NameSuggestions
{
    // Bounds the O(n·m) edit distance on absurd names; real tensor names are < 100 chars.
    private const int MaxCompared = 128;

    internal static IReadOnlyList<string> Nearest(string missing, IEnumerable<string> candidates, int count)
    {
        return candidates
            .Select(c => (Name: c, Distance: Distance(missing, c)))
            .OrderBy(p => p.Distance)
            .ThenBy(p => p.Name, StringComparer.Ordinal)
            .Take(count)
            .Select(p => p.Name)
            .ToArray();
    }

    /// <summary>Levenshtein distance over the first <see cref="MaxCompared"/> characters of each string.</summary>
    private static int Distance(string a, string b)
    {
        ReadOnlySpan<char> s = a.AsSpan(0, Math.Min(a.Length, MaxCompared));
        ReadOnlySpan<char> t = b.AsSpan(0, Math.Min(b.Length, MaxCompared));
        Span<int> previous = stackalloc int[t.Length + 1];
        Span<int> current = stackalloc int[t.Length + 1];
        for (int j = 0; j <= t.Length; j++)
        {
            previous[j] = j;
        }

        for (int i = 1; i <= s.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= t.Length; j++)
            {
                int substitution = previous[j - 1] + (s[i - 1] == t[j - 1] ? 0 : 1);
                current[j] = Math.Min(substitution, Math.Min(previous[j], current[j - 1]) + 1);
            }

            Span<int> swap = previous;
            previous = current;
            current = swap;
        }

        return previous[t.Length];
    }
}
