namespace PromptAD.Tests.Adversarial;

/// <summary>
/// Deliverable 5: `train` and `run` are killed (SIGKILL) as child processes at seeded random moments; afterwards
/// nothing is half-written (no model or metrics file that does not load, no temporary file left behind after a
/// resume) and rerunning finishes the job with the same results as an uninterrupted one. And two writers at once:
/// exactly one proceeds, the other fails at once naming the first.
/// </summary>
public sealed class InterruptionTests : IDisposable
{
    private readonly Hostile _h = new();

    public void Dispose() => _h.Dispose();

    private string[] RunArgs(string output) =>
        ["run", "--weights", _h.Weights, "--backbone", "tiny-test", "--data", _h.Data, "--shots", "1,2", "--seeds", "2", "--epochs", "3",
            "--size", "32", "--out", output];

    /// <summary>Starts the child, kills it after <paramref name="delay"/> (if still running); true when it was killed.</summary>
    private static bool KillAfter(string[] args, TimeSpan delay)
    {
        using var p = Hostile.Start(args);
        _ = p.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        _ = p.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        if (p.WaitForExit(delay)) return false;
        p.Kill(entireProcessTree: true);
        p.WaitForExit();
        return true;
    }

    /// <summary>metrics.csv without its timing columns (train/test seconds differ from run to run).</summary>
    private static string[] MetricsWithoutTimes(string output)
    {
        var lines = File.ReadAllLines(Path.Combine(output, "metrics.csv"));
        var header = lines[0].Split(',');
        var keep = Enumerable.Range(0, header.Length).Where(i => !header[i].Contains("seconds", StringComparison.Ordinal)).ToArray();
        return [.. lines.Select(l => string.Join(',', keep.Select(i => l.Split(',')[i])))];
    }

    [Fact]
    public void Run_KilledAtRandomPoints_ResumesToTheSameResults()
    {
        string reference = _h.P("reference");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var r = Hostile.RunChild(RunArgs(reference));
        double jobMs = clock.Elapsed.TotalMilliseconds;
        Assert.True(r.Code == 0, r.Err);
        var expected = MetricsWithoutTimes(reference);

        var rng = new Random(20241201);
        string output = _h.P("killed");
        int kills = 0;
        for (int attempt = 0; attempt < 4; attempt++)
        {
            // Kill points spread over the whole job, scaled by how long the uninterrupted job took on this machine
            // (start-up included), so some land inside the job on a fast machine as on a slow one.
            if (KillAfter(RunArgs(output), TimeSpan.FromMilliseconds(jobMs * (0.3 + 0.6 * rng.NextDouble())))) kills++;
            // Whatever is on disk now is whole: every metrics.json that exists parses.
            foreach (var m in Directory.Exists(output) ? Directory.GetFiles(output, "metrics.json", SearchOption.AllDirectories) : [])
                Assert.StartsWith("{", File.ReadAllText(m).TrimStart());
        }
        r = Hostile.RunChild(RunArgs(output));
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(expected, MetricsWithoutTimes(output));
        Assert.Empty(Directory.GetFiles(output, "*.tmp-*", SearchOption.AllDirectories));
        Assert.False(File.Exists(Path.Combine(output, ".promptad.lock")));
        Assert.True(kills > 0, "no kill landed inside the job");
    }

    [Fact]
    public void Train_KilledAtRandomPoints_LeavesNoModelOrAWholeOne()
    {
        var rng = new Random(77);
        string model = _h.P("m.safetensors");
        string[] args = _h.TrainArgs(model, epochs: 40);
        for (int attempt = 0; attempt < 3; attempt++)
        {
            KillAfter(args, TimeSpan.FromMilliseconds(500 + rng.Next(3000)));
            if (File.Exists(model))
            {
                using var m = PromptAD.Model.PromptAdModel.Load(model);
                Assert.Equal(40, m.Metadata.Options.Epochs);
            }
        }
        var r = Hostile.RunChild(args);
        Assert.True(r.Code == 0, r.Err);
        using (var m = PromptAD.Model.PromptAdModel.Load(model)) Assert.Equal(2, m.Metadata.Shots);
    }

    [Fact]
    public async Task TwoRunsIntoOneFolder_OneProceeds_TheOtherFailsAtOnce()
    {
        string output = _h.P("shared");
        var ct = TestContext.Current.CancellationToken;
        using var first = Hostile.Start(RunArgs(output));
        var firstErr = first.StandardError.ReadToEndAsync(ct);
        var firstOut = first.StandardOutput.ReadToEndAsync(ct);
        // Wait until the first holds the folder (its lock file appears).
        while (!File.Exists(Path.Combine(output, ".promptad.lock")) && !first.HasExited) await Task.Delay(20, ct);
        Assert.False(first.HasExited, first.HasExited ? await firstErr : "");
        var second = Hostile.RunChild(RunArgs(output));
        Assert.Equal(1, second.Code);
        Assert.Contains("in use by `promptad run` (pid " + first.Id, second.Err);
        await first.WaitForExitAsync(ct);
        Assert.True(first.ExitCode == 0, await firstErr);
        Assert.Contains("4 run(s): 4 done now", await firstOut);
        Assert.Equal(5, File.ReadAllLines(Path.Combine(output, "metrics.csv")).Length); // header + 4 runs: no row lost
    }
}
