using System.Diagnostics;
using System.Globalization;

namespace PromptAD.Tests.Adversarial;

/// <summary>
/// #12 items 4–6: a results folder belongs to one job. run refuses to resume under other parameters naming what
/// changed; a live lock stops a second writer at once; a dead one is taken over; a killed job's temporary files go;
/// test into a reused folder keeps no stale skipped.txt or heatmaps.
/// </summary>
[Collection("Console")]
public sealed class ResultsFolderTests : IDisposable
{
    private readonly Hostile _h = new();

    public void Dispose() => _h.Dispose();

    private string[] RunArgs(string output, string epochs = "1", string size = "32", string seeds = "1") =>
        ["run", "--weights", _h.Weights, "--backbone", "tiny-test", "--data", _h.Data, "--shots", "1", "--seeds", seeds, "--epochs", epochs,
            "--size", size, "--out", output];

    [Fact]
    public void Run_ResumedWithOtherParameters_IsRefusedNamingEachChange()
    {
        string output = _h.P("paper");
        var r = Hostile.Cli(RunArgs(output));
        Assert.True(r.Code == 0, r.Err);
        var before = Hostile.Snapshot(output);

        r = Hostile.Cli(RunArgs(output, epochs: "2", size: "48"));
        Assert.Equal(2, r.Code);
        Assert.Contains("epochs was 1, now 2", r.Err);
        Assert.Contains("size was 32, now 48", r.Err);
        Assert.Equal(before, Hostile.Snapshot(output));

        string otherWeights = _h.P("other.safetensors");
        using (var w = PromptAD.Clip.ClipWeights.Random(PromptAD.Clip.ClipConfigs.Load("tiny-test"), PromptAD.Tensors.Cpu.CpuBackend.Instance, seed: 7))
            w.SaveSafetensors(otherWeights);
        r = Hostile.Cli([.. RunArgs(output)[..2], otherWeights, .. RunArgs(output)[3..]]);
        Assert.Equal(2, r.Code);
        Assert.Contains("weights_sha256 was", r.Err);

        // More seeds under the same parameters is the same job, resumed.
        r = Hostile.Cli(RunArgs(output, seeds: "2"));
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("1 done now, 1 done earlier", r.Out);
    }

    [Fact]
    public void SecondWriter_FailsAtOnce_NamingTheOwner()
    {
        string model = _h.TrainModel();
        string output = _h.P("t");
        Directory.CreateDirectory(output);
        // A live owner: this very process (pid and start time as the lock records them).
        using var self = Process.GetCurrentProcess();
        File.WriteAllText(Path.Combine(output, ".promptad.lock"), string.Create(CultureInfo.InvariantCulture,
            $"pid={Environment.ProcessId}\nhost={Environment.MachineName}\nstarted={self.StartTime.ToUniversalTime():O}\nverb=test\n"));
        var r = Hostile.Cli("test", "--model", model, "--weights", _h.Weights, "--data", _h.Data, "--size", "32", "--out", output);
        Assert.Equal(1, r.Code);
        Assert.Contains("in use by `promptad test` (pid " + Environment.ProcessId, r.Err);
        Assert.False(File.Exists(Path.Combine(output, "metrics.json")));

        r = Hostile.Cli(RunArgs(output));
        Assert.Equal(1, r.Code);
        Assert.Contains("in use", r.Err);
    }

    [Fact]
    public void StaleLockOfADeadProcess_IsTakenOver_AndTempFilesAreCleaned()
    {
        string output = _h.P("paper");
        Directory.CreateDirectory(output);
        int deadPid;
        using (var p = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!)
        {
            p.WaitForExit();
            deadPid = p.Id;
        }
        File.WriteAllText(Path.Combine(output, ".promptad.lock"),
            $"pid={deadPid}\nhost={Environment.MachineName}\nstarted=2020-01-01T00:00:00.0000000Z\nverb=run\n");
        string temp = Path.Combine(output, "runs", "widget", "k1_seed0", "metrics.json.tmp-0123456789abcdef");
        Directory.CreateDirectory(Path.GetDirectoryName(temp)!);
        File.WriteAllText(temp, "{ half");
        var r = Hostile.Cli(RunArgs(output));
        Assert.True(r.Code == 0, r.Err);
        Assert.False(File.Exists(temp));
        Assert.Empty(Directory.GetFiles(output, "*.tmp-*", SearchOption.AllDirectories));
        Assert.False(File.Exists(Path.Combine(output, ".promptad.lock"))); // released at the end
    }

    [Fact]
    public void Test_IntoAReusedFolder_KeepsNoStaleOutputs()
    {
        string model = _h.TrainModel();
        string output = _h.P("t");
        string broken = Path.Combine(_h.Category, "test", "good", "zz_broken.png");
        File.WriteAllBytes(broken, [1, 2, 3]);
        var r = Hostile.Cli("test", "--model", model, "--weights", _h.Weights, "--data", _h.Data, "--size", "32", "--out", output);
        Assert.True(r.Code == 0, r.Err);
        Assert.True(File.Exists(Path.Combine(output, "skipped.txt")));
        string goodHeatmap = Path.Combine(output, "heatmaps", "good", "000.png");
        Assert.True(File.Exists(goodHeatmap));
        // The broken file gone and one good image renamed: its old heatmap must go too.
        File.Delete(broken);
        File.Move(Path.Combine(_h.Category, "test", "good", "000.png"), Path.Combine(_h.Category, "test", "good", "100.png"));
        r = Hostile.Cli("test", "--model", model, "--weights", _h.Weights, "--data", _h.Data, "--size", "32", "--out", output);
        Assert.True(r.Code == 0, r.Err);
        Assert.False(File.Exists(Path.Combine(output, "skipped.txt")));
        Assert.False(File.Exists(goodHeatmap));
        Assert.True(File.Exists(Path.Combine(output, "heatmaps", "good", "100.png")));

        r = Hostile.Cli("test", "--model", model, "--weights", _h.Weights, "--data", _h.Data, "--size", "32", "--out", output, "--no-heatmaps");
        Assert.True(r.Code == 0, r.Err);
        Assert.False(Directory.Exists(Path.Combine(output, "heatmaps")));
    }
}
