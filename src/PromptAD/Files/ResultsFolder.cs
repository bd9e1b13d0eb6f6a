using System.Text;
using System.Text.Json;

namespace PromptAD.Files;

/// <summary>
/// A results folder belongs to one job. <see cref="Open"/> takes the folder's lock and removes the temporary files a
/// killed job left (<c>*.tmp-*</c>: only a writer holding the lock makes them). <see cref="CheckJob"/> records the
/// parameters that decide the results in <c>job.json</c> and refuses to add to a folder made under other ones,
/// naming every difference. <see cref="RemoveStaleTestOutputs"/> makes a reused <c>test</c> folder hold only the
/// latest run's outputs.
/// </summary>
public static class ResultsFolder
{
    public const string JobFile = "job.json";
    public const string SkippedFile = "skipped.txt";
    public const string HeatmapsFolder = "heatmaps";

    public static ResultsFolderLock Open(string folder, string verb)
    {
        var held = ResultsFolderLock.Acquire(folder, verb);
        try
        {
            // Holding the lock, every temporary file here is a dead writer's (a racing locker's own survives: it
            // fails its link and finds the folder busy either way).
            foreach (string temp in Directory.EnumerateFiles(folder, "*" + Tensors.SafeTensors.AtomicWrite.TempMarker + "*", SearchOption.AllDirectories))
                File.Delete(temp);
            return held;
        }
        catch
        {
            held.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Records <paramref name="parameters"/> (name → value, in order) in job.json, or checks them against the ones
    /// recorded. A folder with results but no job.json (older versions) is refused too: nothing says what made them.
    /// <paramref name="absentMeans"/> names parameters added since job.json first existed, with the value every older
    /// job had (so their folders still resume).
    /// </summary>
    /// <param name="growing">Parameters of parts a job may gain between resumptions (a category's dataset identity):
    /// checked where recorded, recorded where new.</param>
    public static void CheckJob(string folder, IReadOnlyList<KeyValuePair<string, string>> parameters, string resultsMarker,
        IReadOnlyDictionary<string, string>? absentMeans = null, IReadOnlyList<KeyValuePair<string, string>>? growing = null)
    {
        string path = Path.Combine(folder, JobFile);
        growing ??= [];
        if (!File.Exists(path))
        {
            if (Path.Exists(Path.Combine(folder, resultsMarker)))
                throw new ArgumentException($"results folder '{folder}' holds results ({resultsMarker}) but no {JobFile} saying which parameters made them; use a new results folder.");
            AtomicFile.WriteAllText(path, Format([.. parameters, .. growing]));
            return;
        }
        var file = ReadJob(path);
        var recorded = new Dictionary<string, string>(file, StringComparer.Ordinal);
        foreach (var (key, value) in absentMeans ?? new Dictionary<string, string>()) recorded.TryAdd(key, value);
        var changes = parameters.Concat(growing.Where(g => recorded.ContainsKey(g.Key))).Where(p => !recorded.TryGetValue(p.Key, out var v) || v != p.Value)
            .Select(p => recorded.TryGetValue(p.Key, out var v) ? $"{p.Key} was {v}, now {p.Value}" : $"{p.Key} not recorded, now {p.Value}").ToList();
        if (changes.Count > 0)
            throw new ArgumentException($"results folder '{folder}' holds results of another job ({string.Join("; ", changes)}); "
                + "resume with the original options and data, or use a new results folder.");
        var added = growing.Where(g => !file.ContainsKey(g.Key)).ToList();
        if (added.Count > 0) AtomicFile.WriteAllText(path, Format([.. file, .. added]));
    }

    /// <summary>Adds or replaces one entry of a folder's job.json (written before: CheckJob).</summary>
    public static void Record(string folder, string key, string value)
    {
        string path = Path.Combine(folder, JobFile);
        var entries = ReadJob(path);
        entries[key] = value;
        AtomicFile.WriteAllText(path, Format([.. entries]));
    }

    /// <summary>A job.json's entries in file order; an unreadable one is an IOException naming it.</summary>
    public static Dictionary<string, string> ReadJob(string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(Clip.IO.InputFile.ReadAllText(path, "job file"));
            return doc.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? "", StringComparer.Ordinal);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException)
        {
            throw new IOException($"'{path}' is not a job file ({e.Message}); use a new results folder.", e);
        }
    }

    /// <summary>Writes job.json entries (name → value, in order).</summary>
    public static void WriteJob(string path, IEnumerable<KeyValuePair<string, string>> entries) => AtomicFile.WriteAllText(path, Format([.. entries]));

    /// <summary>
    /// After a successful test into a reused folder: heatmaps older than this run (images no longer in the test set,
    /// or all of them under --no-heatmaps) and a skipped.txt when nothing was skipped belong to an earlier run and go.
    /// </summary>
    public static void RemoveStaleTestOutputs(string folder, DateTime startedUtc, bool skippedAny)
    {
        string skipped = Path.Combine(folder, SkippedFile);
        if (!skippedAny && File.Exists(skipped)) File.Delete(skipped);
        string heatmaps = Path.Combine(folder, HeatmapsFolder);
        if (!Directory.Exists(heatmaps)) return;
        foreach (string png in Directory.EnumerateFiles(heatmaps, "*.png", SearchOption.AllDirectories))
            if (File.GetLastWriteTimeUtc(png) < startedUtc) File.Delete(png);
        foreach (string dir in Directory.EnumerateDirectories(heatmaps, "*", SearchOption.AllDirectories).OrderByDescending(d => d.Length).Append(heatmaps))
            if (!Directory.EnumerateFileSystemEntries(dir).Any()) Directory.Delete(dir);
    }

    private static string Format(IEnumerable<KeyValuePair<string, string>> parameters)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            foreach (var (k, v) in parameters) w.WriteString(k, v);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }
}
