using PromptAD.Data;
using PromptAD.Files;

namespace PromptAD.Tests.Adversarial;

/// <summary>
/// A resumed `run` must be the same job on the same data: job.json records each category's dataset identity, so
/// another --data under the same --out is refused instead of reporting the old runs "done earlier". `--merge`
/// refuses a shard still being written, a missing shard of the job, and an --out that is one of the shards.
/// </summary>
[Collection("Console")]
public sealed class RunResumeAndMergeTests : IDisposable
{
    private readonly Hostile _h = new();

    public void Dispose() => _h.Dispose();

    private string[] Run(string data, string output, params string[] extra) =>
        ["run", "--weights", _h.Weights, "--backbone", "tiny-test", "--data", data, "--shots", "1", "--seeds", "1", "--epochs", "1", "--size", "32",
            "--out", output, .. extra];

    [Fact]
    public void Resume_WithOtherImagesUnderTheSameCategoryNames_IsRefused()
    {
        string output = _h.P("r");
        var r = Hostile.Cli(Run(_h.Data, output));
        Assert.True(r.Code == 0, r.Err);
        r = Hostile.Cli(Run(_h.Data, output)); // the same data resumes: nothing to do
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("done earlier", r.Out);

        string other = _h.P("other");
        SyntheticDataset.Generate(other, seed: 7, size: 32); // same category name, other images
        string metrics = File.ReadAllText(Path.Combine(output, "metrics.csv"));
        r = Hostile.Cli(Run(other, output));
        Assert.True(r.Code == 2, $"exit {r.Code}: {r.Err}\n{r.Out}");
        Assert.Contains(SyntheticDataset.Category, r.Err);
        Assert.Contains("dataset", r.Err);
        Assert.DoesNotContain("done earlier", r.Out);
        Assert.Equal(metrics, File.ReadAllText(Path.Combine(output, "metrics.csv")));
    }

    [Fact]
    public void Merge_RefusesALiveShard_AMissingShard_AndMergingIntoAShard()
    {
        // Two categories so that a 2-way shard has one each.
        string other = _h.P("other");
        SyntheticDataset.Generate(other, seed: 1, size: 32);
        Directory.Move(Path.Combine(other, SyntheticDataset.Category), Path.Combine(_h.Data, "gadget"));
        string s0 = _h.P("s0"), s1 = _h.P("s1");
        var r = Hostile.Cli(Run(_h.Data, s0, "--shard", "0/2"));
        Assert.True(r.Code == 0, r.Err);
        r = Hostile.Cli(Run(_h.Data, s1, "--shard", "1/2"));
        Assert.True(r.Code == 0, r.Err);

        // A shard missing from the merge: the job has two.
        r = Hostile.Cli("run", "--merge", s0, "--out", _h.P("m1"));
        Assert.True(r.Code != 0, r.Out);
        Assert.Contains("1/2", r.Err);

        // Into one of the shards.
        r = Hostile.Cli("run", "--merge", s0, s1, "--out", s1);
        Assert.True(r.Code == 2, $"exit {r.Code}: {r.Err}");
        Assert.Contains("--out", r.Err);

        // A shard whose lock is held by a live process (this one): still being written.
        File.WriteAllText(Path.Combine(s1, ResultsFolderLock.FileName), string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"pid={Environment.ProcessId}\nhost={Environment.MachineName}\nstarted={System.Diagnostics.Process.GetCurrentProcess().StartTime.ToUniversalTime():O}\nverb=run\n"));
        r = Hostile.Cli("run", "--merge", s0, s1, "--out", _h.P("m2"));
        Assert.True(r.Code != 0, r.Out);
        Assert.Contains("in use", r.Err);
        Assert.False(File.Exists(_h.P("m2", "results.csv")));
        File.Delete(Path.Combine(s1, ResultsFolderLock.FileName));

        r = Hostile.Cli("run", "--merge", s0, s1, "--out", _h.P("m3"));
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(3, File.ReadAllLines(_h.P("m3", "metrics.csv")).Length); // header + one run per category
    }
}
