using PromptAD.Clip;
using PromptAD.Data;
using PromptAD.Jobs;
using PromptAD.Model;
using PromptAD.Pipeline;
using PromptAD.Tensors.Cpu;
using PromptAD.Tests.Model;

namespace PromptAD.Tests.Cli;

/// <summary>
/// `run`'s protocol machinery on the synthetic dataset with the tiny random-weight backbone: the feature cache
/// (each image encoded once) reproduces the per-run path bit for bit, in memory and in its temporary file; shards
/// and --merge rebuild the same tables as one unsharded job; runs trained together score as runs trained alone.
/// </summary>
[Collection("Console")]
public sealed class RunProtocolTests : IDisposable
{
    private readonly TinyWorkspace _workspace = new("promptad-run-", size: 48);
    private string _dir => _workspace.Dir;
    private string _data => _workspace.Data;
    private string _weights => _workspace.Weights;

    public RunProtocolTests()
    {
        // Two categories: the synthetic generator's widget, and a second one from another seed renamed to gadget.
        string other = Path.Combine(_dir, "other");
        SyntheticDataset.Generate(other, seed: 1, size: 48);
        Directory.Move(Path.Combine(other, SyntheticDataset.Category), Path.Combine(_data, "gadget"));
    }

    public void Dispose() => _workspace.Dispose();

    [Fact]
    public void CachedFeatures_OfAnotherMidFeatureMode_AreRefused()
    {
        using var weights = ClipWeights.Load(_weights, ClipConfigs.Load("tiny-test"), CpuBackend.Instance);
        var ds = AnomalyDataset.Open(_data, SyntheticDataset.Category);
        var shots = ShotChoice.Select(ds, 1, 0, null, null).Files;
        using var cache = FeatureCache.Build(weights, MidFeatureMode.BlockOutput, [.. shots], 1, 1L << 30,
            cancellationToken: TestContext.Current.CancellationToken);
        var trained = TrainRunner.Train(weights, ds, shots, new TrainOptions { Epochs = 1 }, PromptSource.Resolve(null), null, progressWriter: TextWriter.Null);
        using var model = trained.Model;
        using var detector = new Detector(weights, model, outputSize: 32, batchSize: 1);
        var e = Assert.Throws<ArgumentException>(() => new CachedFeatureSource(detector, cache));
        Assert.Contains("BlockOutput", e.Message);
    }

    [Theory]
    [InlineData(4096)] // features in memory
    [InlineData(0)] // features in the temporary file
    public void CachedFeatures_GiveBitIdenticalModelsScoresAndMetrics_ToThePerRunPath(int limitMiB)
    {
        using var weights = ClipWeights.Load(_weights, ClipConfigs.Load("tiny-test"), CpuBackend.Instance);
        var ds = AnomalyDataset.Open(_data, SyntheticDataset.Category);
        var prompts = PromptSource.Resolve(null);
        var runs = new[] { (K: 1, Seed: 0), (K: 2, Seed: 1), (K: 4, Seed: 2) };
        var shots = runs.Select(r => ShotChoice.Select(ds, r.K, r.Seed, null, null).Files).ToList();
        const int batch = 3; // 8 test images: batches of 3, 3, 2
        using var cache = FeatureCache.Build(weights, new TrainOptions().MidFeatures, [.. shots.SelectMany(s => s), .. ds.TestSamples.Select(t => t.ImagePath)], batch, (long)limitMiB << 20, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(limitMiB == 0, cache.OnDisk);

        for (int r = 0; r < runs.Length; r++)
        {
            var options = new TrainOptions { Epochs = 3, Seed = runs[r].Seed };
            var alone = TrainRunner.Train(weights, ds, shots[r], options, prompts, null, progressWriter: TextWriter.Null);
            TrainOutcome cached;
            using (var f = cache.Load(weights.Backend, [.. shots[r].Select(cache.IndexOf)]))
                cached = TrainRunner.Train(weights, ds, shots[r], options, prompts, null, progressWriter: TextWriter.Null, shotFeatures: f);
            using var m1 = alone.Model;
            using var m2 = cached.Model;
            ModelAssert.SameTensors(m1, m2);
            Assert.Equal(alone.Heads.Select(h => h.Loss), cached.Heads.Select(h => h.Loss));

            using var d1 = new Detector(weights, m1, outputSize: 32, batchSize: batch);
            using var d2 = new Detector(weights, m2, outputSize: 32, batchSize: batch);
            var ct = TestContext.Current.CancellationToken;
            var decoded = new DecodedImageSource(d1).Score(ds.TestSamples, null, ct).SelectMany(c => c).ToList();
            var fromCache = new CachedFeatureSource(d2, cache).Score(ds.TestSamples, null, ct).SelectMany(c => c).ToList();
            Assert.Equal(decoded.Count, fromCache.Count);
            for (int i = 0; i < decoded.Count; i++)
            {
                Assert.Equal(decoded[i].Sample, fromCache[i].Sample);
                Assert.Equal(decoded[i].Score.Score, fromCache[i].Score.Score);
                Assert.Equal(decoded[i].Score.PixelMap, fromCache[i].Score.PixelMap);
            }
            var a = TestRunner.Run(d1, ds, new TestRunOptions { OutDir = Path.Combine(_dir, $"alone{r}"), Strict = true, Heatmaps = false, ProgressWriter = TextWriter.Null });
            var b = TestRunner.Run(new CachedFeatureSource(d2, cache), ds,
                new TestRunOptions { OutDir = Path.Combine(_dir, $"cached{r}"), Strict = true, Heatmaps = false, ProgressWriter = TextWriter.Null });
            Assert.Equal(a.Metrics.Metrics, b.Metrics.Metrics);
            Assert.Equal(File.ReadAllText(Path.Combine(_dir, $"alone{r}", "scores.csv")), File.ReadAllText(Path.Combine(_dir, $"cached{r}", "scores.csv")));
        }
    }

    [Fact]
    public void Shards_AndMerge_BuildTheTablesOfOneJob()
    {
        string[] common = ["--weights", _weights, "--backbone", "tiny-test", "--data", _data, "--shots", "1,2", "--seeds", "2", "--epochs", "2", "--size", "32"];
        string whole = Path.Combine(_dir, "whole"), s0 = Path.Combine(_dir, "shard0"), s1 = Path.Combine(_dir, "shard1"), merged = Path.Combine(_dir, "merged");
        // The whole job trains each run alone with its features in the temporary file; the shards (default
        // --max-batch) train a category's runs together from memory: same scores to the last bit.
        var r = Cli(["run", .. common, "--cache-limit", "0", "--max-batch", "1", "--out", whole]);
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("8 done now", r.Out);
        Assert.Contains("time per stage: decode ", r.Out);
        Assert.Matches(@"\(score \+ metrics \d+\.\d\d s per run\)", r.Out); // over the 8 runs

        r = Cli(["run", .. common, "--shard", "0/2", "--out", s0]);
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("shard 0/2: gadget", r.Out); // categories in name order: gadget, widget
        r = Cli(["run", .. common, "--shard", "1/2", "--out", s1]);
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(["widget"], Directory.GetDirectories(Path.Combine(s1, "runs")).Select(Path.GetFileName));

        r = Cli("run", "--merge", s0, s1, "--out", merged);
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("8 run(s)", r.Out);
        Assert.Equal(File.ReadAllText(Path.Combine(whole, "results.csv")), File.ReadAllText(Path.Combine(merged, "results.csv")));
        Assert.Equal(File.ReadAllText(Path.Combine(whole, "results.md")), File.ReadAllText(Path.Combine(merged, "results.md")));
        foreach (var run in new[] { Path.Combine("widget", "k2_seed1"), Path.Combine("gadget", "k1_seed0") })
            Assert.Equal(File.ReadAllText(Path.Combine(whole, "runs", run, "scores.csv")), File.ReadAllText(Path.Combine(merged, "runs", run, "scores.csv")));

        // The merged folder resumes as a whole job: nothing left to do.
        r = Cli(["run", .. common, "--out", merged]);
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("0 done now, 8 done earlier", r.Out);
    }

    [Theory]
    [InlineData("3/2")]
    [InlineData("x")]
    [InlineData("1/0")]
    public void Shard_OutOfRange_IsAUsageError(string shard)
    {
        var r = Cli("run", "--weights", _weights, "--backbone", "tiny-test", "--data", _data, "--shard", shard, "--out", Path.Combine(_dir, "bad"));
        Assert.NotEqual(0, r.Code);
        Assert.Contains("--shard", r.Err);
    }

    private static (int Code, string Out, string Err) Cli(params string[] args) => VerbTests.Cli(args);
}
