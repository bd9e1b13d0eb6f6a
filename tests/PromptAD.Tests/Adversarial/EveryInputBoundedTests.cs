using PromptAD.Data;

namespace PromptAD.Tests.Adversarial;

/// <summary>
/// One input rule for every file a verb reads: a FIFO, device or oversized file given as prompts, shots file, shots
/// folder entry, --init model, served model or emulator library fails at once with an error naming it (never a hang,
/// never gigabytes read); a category is a name inside --data, never a path.
/// </summary>
[Collection("Console")]
public sealed class EveryInputBoundedTests : IDisposable
{
    private readonly Hostile _h = new();

    public void Dispose() => _h.Dispose();

    /// <summary>
    /// Runs the CLI in this process, failing the test (instead of hanging it) when it takes over a minute; a reader
    /// stuck on a FIFO of the arguments is then released by opening it for writing, so the run ends.
    /// </summary>
    private (int Code, string Out, string Err) WithinAMinute(params string[] args)
    {
        var run = Task.Run(() => Hostile.Cli(args));
        if (run.Wait(TimeSpan.FromSeconds(60))) return run.Result;
        foreach (string a in Directory.GetFiles(_h.Dir, "*", SearchOption.AllDirectories).Where(a => a.EndsWith(".fifo") || a.EndsWith(".txt")))
            if (Hostile.IsSpecial(a)) try { using var w = new FileStream(a, FileMode.Open, FileAccess.Write); } catch (IOException) { }
        run.Wait(TimeSpan.FromSeconds(30));
        Assert.Fail($"`promptad {string.Join(' ', args.Take(2))}` hangs on a special file");
        return default;
    }

    private static void NamedFailure((int Code, string Out, string Err) r, string path, string mentions = "not a regular file")
    {
        Assert.True(r.Code is 1 or 2, $"exit {r.Code}: {r.Err}");
        Assert.Contains(path, r.Err);
        Assert.Contains(mentions, r.Err);
        Assert.DoesNotContain("internal error", r.Err);
    }

    [Fact]
    public void Fifos_AsNonImageInputs_FailAtOnceNamingTheFile()
    {
        string fifo = Hostile.MakeFifo(_h.P("in.fifo"));
        NamedFailure(WithinAMinute([.. _h.TrainArgs(_h.P("m.safetensors")), "--prompts", fifo]), fifo);
        NamedFailure(WithinAMinute([.. _h.TrainArgs(_h.P("m.safetensors")), "--shots-file", fifo]), fifo);
        NamedFailure(WithinAMinute([.. _h.TrainArgs(_h.P("m.safetensors")), "--init", fifo]), fifo);
        string shotsDir = _h.P("shots");
        Directory.CreateDirectory(shotsDir);
        string entry = Hostile.MakeFifo(Path.Combine(shotsDir, SyntheticDataset.Category + ".txt"));
        NamedFailure(WithinAMinute([.. _h.TrainArgs(_h.P("m.safetensors")), "--shots-dir", shotsDir]), entry);
        NamedFailure(WithinAMinute("run", "--weights", _h.Weights, "--backbone", "tiny-test", "--data", _h.Data, "--shots", "1", "--seeds", "1",
            "--epochs", "1", "--size", "32", "--prompts", fifo, "--out", _h.P("r")), fifo);
        NamedFailure(WithinAMinute("serve", "--model", "m=" + fifo, "--weights", _h.Weights), fifo);
        string model = _h.TrainModel();
        NamedFailure(WithinAMinute("calibrate", "--model", model, "--weights", _h.Weights, "--data", _h.Data, "--size", "32", "--prompts", fifo,
            "--out", _h.P("c.safetensors")), fifo);
        Assert.False(File.Exists(_h.P("m.safetensors")));
    }

    [Fact]
    public void Devices_AndOversizedFiles_AsPromptsOrShots_AreRefusedUnread()
    {
        NamedFailure(WithinAMinute([.. _h.TrainArgs(_h.P("m.safetensors")), "--prompts", "/dev/zero"]), "/dev/zero");
        NamedFailure(WithinAMinute([.. _h.TrainArgs(_h.P("m.safetensors")), "--shots-file", "/dev/zero"]), "/dev/zero");
        // A sparse 64 MB file: far larger than any prompts file; refused by its size, not read.
        string big = _h.P("big.json");
        using (var f = File.Create(big)) f.SetLength(64L << 20);
        NamedFailure(WithinAMinute([.. _h.TrainArgs(_h.P("m.safetensors")), "--prompts", big]), big, "at most");
        NamedFailure(WithinAMinute([.. _h.TrainArgs(_h.P("m.safetensors")), "--shots-file", big]), big, "at most");
    }

    [Fact]
    public void PromptsVariable_NamingAMissingFile_IsAnError_NotASilentDefault()
    {
        // A child process: the variable must not leak into tests running beside this one.
        string missing = _h.P("nonexistent.json");
        var r = Hostile.RunChildWith(new Dictionary<string, string> { ["PROMPTAD_PROMPTS"] = missing }, _h.TrainArgs(_h.P("m.safetensors")));
        Assert.True(r.Code == 1, $"exit {r.Code}: {r.Err}");
        Assert.Contains(missing, r.Err);
        Assert.Contains("PROMPTAD_PROMPTS", r.Err);
        Assert.False(File.Exists(_h.P("m.safetensors")));
    }

    [Fact]
    public void Profile_EmulatorThatIsNoEmulator_IsANamedError()
    {
        string image = Directory.GetFiles(Path.Combine(_h.Category, "test", AnomalyDataset.GoodFolder)).First();
        string libc = new[] { "/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu/libc.so.6", "/lib/aarch64-linux-gnu/libc.so.6" }
            .FirstOrDefault(File.Exists) ?? image;
        foreach (string library in new[] { image, "/dev/null", libc })
        {
            var r = Hostile.Cli("profile", "--device", "emulated", "--emulator", library, "--backbone", "tiny-test");
            Assert.True(r.Code is 1 or 2, $"exit {r.Code}: {r.Err}");
            Assert.DoesNotContain("internal error", r.Err);
            Assert.Contains(library, r.Err);
            Assert.Contains("libpromptad_emu.so", r.Err);
        }
    }

    [Fact]
    public void Categories_ArePlainNamesInsideData_NeverPaths()
    {
        // A victim folder outside --data, laid out as a category: never read, never written into.
        string victim = _h.P("victim");
        CopyFolder(_h.Category, victim);
        var before = Hostile.Snapshot(victim);
        string[] Run(string categories) => ["run", "--weights", _h.Weights, "--backbone", "tiny-test", "--data", _h.Data, "--categories", categories,
            "--shots", "1", "--seeds", "1", "--epochs", "1", "--size", "32", "--out", _h.P("r")];
        foreach (string name in new[] { victim, "../victim", $"{SyntheticDataset.Category}/../../victim", "..", ".", "a/b" })
        {
            var r = Hostile.Cli(Run(name));
            Assert.True(r.Code == 2, $"--categories {name}: exit {r.Code}: {r.Err}");
            Assert.Contains("--categories", r.Err);
        }
        string model = _h.TrainModel();
        var t = Hostile.Cli("test", "--model", model, "--weights", _h.Weights, "--data", _h.Data, "--category", victim, "--size", "32", "--out", _h.P("t"));
        Assert.True(t.Code == 2, t.Err);
        Assert.Contains("--category", t.Err);
        var tr = Hostile.Cli(["train", "--weights", _h.Weights, "--backbone", "tiny-test", "--data", _h.Data, "--category", "../victim", "--shots", "1",
            "--epochs", "1", "--out", _h.P("v.safetensors")]);
        Assert.True(tr.Code == 2, tr.Err);
        Assert.Equal(before, Hostile.Snapshot(victim));
        Assert.False(Directory.Exists(_h.P("runs")));
    }

    private static void CopyFolder(string from, string to)
    {
        foreach (string file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
