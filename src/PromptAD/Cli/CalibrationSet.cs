using PromptAD.Files;
using PromptAD.Model;

namespace PromptAD.Cli;

/// <summary>
/// The good images a threshold rests on must be good parts the model has not seen, each counted once: the model's own
/// shots score lower than new parts (the threshold would come out too low), and one image given twice makes n claim
/// more evidence than there is. Images are compared by content (SHA-256), so copies and renamed files count too; the
/// model records its shots' hashes at training (older models: their names only).
/// </summary>
internal static class CalibrationSet
{
    /// <summary>A usage error when two --good files hold the same image.</summary>
    public static void CheckDistinct(IReadOnlyList<string> files, IReadOnlyList<string> hashes)
    {
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < files.Count; i++)
            if (!seen.TryAdd(hashes[i], files[i]))
                throw new ArgumentException($"--good: '{files[i]}' is the same image as '{seen[hashes[i]]}' (identical content); each good image must count once, "
                    + "or the threshold claims more images than it rests on");
    }

    /// <summary>A usage error when a --good file is one of the model's shots (by path under --data, content, or recorded name).</summary>
    public static void CheckNoShots(ModelMetadata meta, IReadOnlyList<string> shotPaths, IReadOnlyList<string> files, IReadOnlyList<string> hashes)
    {
        var shotSet = new HashSet<string>(shotPaths.Select(Path.GetFullPath), StringComparer.Ordinal);
        var byHash = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < meta.ShotSha256.Count && i < meta.ShotFiles.Count; i++) byHash.TryAdd(meta.ShotSha256[i], meta.ShotFiles[i]);
        for (int i = 0; i < files.Count; i++)
        {
            string? shot = shotSet.Contains(Path.GetFullPath(files[i])) ? files[i]
                : byHash.TryGetValue(hashes[i], out var name) ? name
                : meta.ShotSha256.Count == 0 ? meta.ShotFiles.FirstOrDefault(s => files[i].Replace('\\', '/').EndsWith("/" + s, StringComparison.Ordinal)) : null;
            if (shot is not null)
                throw new ArgumentException($"--good: '{files[i]}' is one of the model's shots ('{shot}'); calibrate on good parts the model has not seen");
        }
    }

    /// <summary>
    /// Leave-one-out retrains on the shots found under --data: they must be the images the model was trained on, or
    /// the threshold belongs to another model. A usage error naming the first that differs.
    /// </summary>
    public static void CheckShotsAreTheModels(ModelMetadata meta, IReadOnlyList<string> shotPaths, string dataRoot)
    {
        if (meta.ShotSha256.Count != shotPaths.Count) return; // a model from before the hashes were recorded: names only
        for (int i = 0; i < shotPaths.Count; i++)
            if (FileHash.Sha256(shotPaths[i]) != meta.ShotSha256[i])
                throw new ArgumentException($"--data '{dataRoot}': '{meta.ShotFiles[i]}' there is not the image the model was trained on (its content differs); "
                    + "give the dataset root the model was trained from");
    }
}
