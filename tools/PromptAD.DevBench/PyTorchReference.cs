using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using PromptAD.Bench;

namespace PromptAD.DevBench;

/// <summary>
/// Runs a PyTorch reference script from tests/reference/ for a benchmark and collects what it prints as JSON, one
/// object a line. Python is Debian's /usr/bin/python3 (the one with torch) unless the suite's options say
/// --python PATH; the script is found under the repository root (the folder holding PromptAD.sln) unless they say
/// --reference PATH. OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are removed from its environment: those overrides (set
/// for other tools on this machine) make OpenBLAS, and so torch, take a slow kernel path instead of its native one.
/// Nothing here throws for a missing python, torch or script: <see cref="TryRun"/> says why instead.
/// </summary>
internal static class PyTorchReference
{
    public const string DefaultPython = "/usr/bin/python3";

    /// <summary>The repository root: the nearest folder holding PromptAD.sln above the working directory or above
    /// the program, or null.</summary>
    public static string? RepoRoot() => FindUp("PromptAD.sln") is { } sln ? Path.GetDirectoryName(sln) : null;

    /// <summary>The full path of <paramref name="relative"/> (a file or folder) from the nearest folder above the
    /// working directory, then above the program, where it exists; or null.</summary>
    public static string? FindUp(string relative)
    {
        foreach (string start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                string path = Path.GetFullPath(Path.Combine(dir.FullName, relative));
                if (File.Exists(path) || Directory.Exists(path)) return path;
            }
        return null;
    }

    /// <summary>
    /// Runs tests/reference/<paramref name="scriptName"/> with <paramref name="arguments"/> and gathers, from every
    /// stdout line that is a JSON object, the pairs <paramref name="read"/> makes of it (default: its numeric
    /// properties; a later line overrides an earlier one's key). <paramref name="benchArgs"/> are the suite's own
    /// options, read for --python and --reference; <paramref name="environment"/> adds variables for the child.
    /// False, with <paramref name="why"/>, when python or the script is missing, the script fails (why ends with
    /// its last stderr line, e.g. "No module named 'torch'") or prints no result.
    /// </summary>
    public static bool TryRun(string scriptName, IEnumerable<string> arguments, IReadOnlyList<string> benchArgs,
        [NotNullWhen(true)] out Dictionary<string, double>? results, out string why,
        Func<JsonElement, IEnumerable<KeyValuePair<string, double>>>? read = null,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        results = null;
        string python = BenchArgs.String(benchArgs, "--python") ?? DefaultPython;
        string? script = BenchArgs.String(benchArgs, "--reference");
        if (script is null)
        {
            string? root = RepoRoot();
            if (root is null) { why = "repository root (PromptAD.sln) not found (pass --reference PATH)"; return false; }
            script = Path.Combine(root, "tests", "reference", scriptName);
        }
        if (!File.Exists(script)) { why = $"{script} not found (pass --reference PATH)"; return false; }
        if (Path.IsPathRooted(python) && !File.Exists(python)) { why = $"{python} not found (pass --python PATH)"; return false; }

        var psi = new ProcessStartInfo(python)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(script);
        foreach (string a in arguments) psi.ArgumentList.Add(a);
        psi.Environment.Remove("OPENBLAS_CORETYPE");
        psi.Environment.Remove("OPENBLAS_L2_SIZE");
        if (environment is not null)
            foreach (var (name, value) in environment) psi.Environment[name] = value;
        read ??= Numbers;
        try
        {
            using var proc = Process.Start(psi);
            if (proc is null) { why = $"could not start {python}"; return false; }
            var stderrTask = proc.StandardError.ReadToEndAsync();
            string stdout = proc.StandardOutput.ReadToEnd();
            proc.WaitForExit();
            string stderr = stderrTask.Result;
            if (proc.ExitCode != 0)
            {
                why = $"{Path.GetFileName(script)} exited with {proc.ExitCode}: {LastLine(stderr)}";
                return false;
            }
            var found = new Dictionary<string, double>();
            foreach (string line in stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!line.StartsWith('{')) continue;
                using var doc = JsonDocument.Parse(line);
                foreach (var (key, value) in read(doc.RootElement)) found[key] = value;
            }
            if (found.Count == 0) { why = $"{Path.GetFileName(script)} printed no results"; return false; }
            results = found;
            why = "";
            return true;
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or JsonException or KeyNotFoundException
                                       or InvalidOperationException or FormatException)
        {
            why = ex.Message;
            return false;
        }
    }

    /// <summary>The line a suite prints when it has no reference figures.</summary>
    public static void ReportUnavailable(string why) => Console.WriteLine($"PyTorch reference unavailable: {why}");

    private static IEnumerable<KeyValuePair<string, double>> Numbers(JsonElement line)
    {
        foreach (var prop in line.EnumerateObject())
            if (prop.Value.ValueKind == JsonValueKind.Number)
                yield return new(prop.Name, prop.Value.GetDouble());
    }

    private static string LastLine(string text)
    {
        string[] lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.Length == 0 ? "(no stderr)" : lines[^1];
    }
}
