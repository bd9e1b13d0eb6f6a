using PromptAD.Data;

namespace PromptAD.Jobs;

/// <summary>
/// Which k <c>train/good</c> images a run learns from: the authors' shots file (indices into the name-sorted list,
/// an out-of-range index is an error naming the file, never guessed), explicit file names, or a seeded random choice
/// (<see cref="FewShot.SelectRandom"/>). The description goes to the console; the files go into the model metadata.
/// </summary>
internal static class ShotChoice
{
    public static (IReadOnlyList<string> Files, string How) Select(AnomalyDataset dataset, int k, int seed, string? shotsFile, IReadOnlyList<string>? names)
    {
        if (names is { Count: > 0 })
        {
            if (names.Count != k) throw new ArgumentException($"{names.Count} shot name(s) given for k = {k} shots");
            if (names.GroupBy(n => n, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
                throw new ArgumentException($"the shot names list '{twice.Key}' {twice.Count()} times; each shot must be a different image");
            var byName = dataset.TrainFiles.ToDictionary(f => Path.GetFileName(f), StringComparer.Ordinal);
            var files = names.Select(n => byName.TryGetValue(n, out var f) ? f
                : throw new DatasetException($"shot '{n}' is not in '{Path.Combine(dataset.Directory, "train", AnomalyDataset.GoodFolder)}'.")).ToList();
            return (files, "by name");
        }
        if (shotsFile is not null) return (FewShot.Select(dataset.TrainFiles, k, shotsFile), $"shots file {shotsFile}");
        return (FewShot.SelectRandom(dataset.TrainFiles, k, seed), $"seeded random choice (seed {seed})");
    }

    /// <summary>The shots file of a category in a shots folder (<c>&lt;dir&gt;/&lt;category&gt;.txt</c>); missing → error naming it.</summary>
    public static string FileIn(string shotsDir, string category)
    {
        string path = Path.GetFullPath(Path.Combine(shotsDir, category + ".txt"));
        if (!File.Exists(path)) throw new DatasetException($"Shots file '{path}' does not exist (a shots folder holds <category>.txt files).");
        return path;
    }
}
