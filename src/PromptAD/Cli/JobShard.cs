using System.Globalization;

namespace PromptAD.Cli;

/// <summary>
/// `run --shard i/N`: part i (0-based, as Kubernetes' JOB_COMPLETION_INDEX and a 0-based Slurm array) of N disjoint
/// parts of a job. Parts are whole categories — category c of the job's list goes to part c mod N — so each part
/// encodes its categories' images once.
/// </summary>
internal sealed record JobShard(int Index, int Count)
{
    public static JobShard Parse(string text)
    {
        var parts = text.Split('/');
        if (parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int i)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= 1 && i < n)
            return new JobShard(i, n);
        throw new ArgumentException($"--shard: '{text}' is not i/N with 0 ≤ i < N (e.g. 0/4)");
    }

    public List<string> Select(IReadOnlyList<string> categories) =>
        [.. categories.Where((_, c) => c % Count == Index)];

    public override string ToString() => $"{Index}/{Count}";
}
