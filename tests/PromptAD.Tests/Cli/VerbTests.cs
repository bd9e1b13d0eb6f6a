using PromptAD.Clip;
using PromptAD.Data;
using PromptAD.Tensors.Cpu;

namespace PromptAD.Tests.Cli;

/// <summary>
/// The verbs end to end through Program.Main on the synthetic dataset with the tiny random-weight backbone: outputs
/// exist, bad input is exit code 1 or 2 with a message naming the path, results are written atomically, run resumes.
/// One class (its tests run one after another) because they swap Console.Out/Error to read what was printed.
/// </summary>
[Collection("Console")]
public sealed class VerbTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("promptad-verbs-").FullName;
    private readonly string _data;
    private readonly string _weights;

    public VerbTests()
    {
        _data = Path.Combine(_dir, "data");
        SyntheticDataset.Generate(_data, size: 48);
        _weights = Path.Combine(_dir, "tiny.safetensors");
        using var w = ClipWeights.Random(ClipConfigs.Load("tiny-test"), CpuBackend.Instance, seed: 1);
        w.SaveSafetensors(_weights);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Cat => Path.Combine(_data, SyntheticDataset.Category);

    internal static (int Code, string Out, string Err) Cli(params string[] args)
    {
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        var (o, e) = (new StringWriter(), new StringWriter());
        Console.SetOut(o);
        Console.SetError(e);
        try
        {
            return (PromptAD.Program.Main(args), o.ToString(), e.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
        }
    }

    private string Train(string? weights = null, string category = SyntheticDataset.Category, string data = "", string? output = null)
    {
        output ??= Path.Combine(_dir, "model.safetensors");
        var r = Cli("train", "--weights", weights ?? _weights, "--model", "tiny-test", "--data", data == "" ? _data : data, "--category", category,
            "--shots", "2", "--epochs", "3", "--out", output);
        Assert.True(r.Code == 0, r.Err);
        return output;
    }

    private (int Code, string Out, string Err) Test(string model, string output, params string[] extra) =>
        Cli(["test", "--model", model, "--weights", _weights, "--data", _data, "--size", "48", "--out", output, .. extra]);

    [Fact]
    public void Demo_RunsAndWritesItsOutputs()
    {
        string output = Path.Combine(_dir, "demo");
        var r = Cli("demo", "--out", output, "--epochs", "3");
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("RANDOM WEIGHTS", r.Out);
        Assert.True(File.Exists(Path.Combine(output, "model.safetensors")));
        Assert.True(File.Exists(Path.Combine(output, "test", "metrics.json")));
        Assert.True(File.Exists(Path.Combine(output, "predict", "scores.csv")));
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(output, "test", "heatmaps", SyntheticDataset.DefectType), "*.png"));
    }

    [Fact]
    public void TrainTestPredict_EndToEnd()
    {
        string model = Train();
        using (var m = PromptAD.Model.PromptAdModel.Load(model))
        {
            Assert.Equal("tiny-test", m.Metadata.Backbone);
            Assert.Equal(2, m.Metadata.Shots);
            Assert.Equal(64, m.Metadata.WeightsSha256!.Length);
            Assert.All(m.Metadata.ShotFiles, f => Assert.StartsWith("widget/train/good/", f, StringComparison.Ordinal));
        }

        string test = Path.Combine(_dir, "test");
        var r = Test(model, test);
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("Image AUROC", r.Out);
        foreach (var f in new[] { "metrics.json", "metrics.csv", "scores.csv" }) Assert.True(File.Exists(Path.Combine(test, f)), f);
        int images = SyntheticDataset.TestGoodCount + SyntheticDataset.TestDefectCount;
        Assert.Equal(images + 1, File.ReadAllLines(Path.Combine(test, "scores.csv")).Length);
        Assert.Equal(SyntheticDataset.TestDefectCount, Directory.GetFiles(Path.Combine(test, "heatmaps", SyntheticDataset.DefectType)).Length);

        string predict = Path.Combine(_dir, "predict");
        r = Cli("predict", "--model", model, "--weights", _weights, Path.Combine(Cat, "test", "good"), "--threshold", "0.5", "--size", "48", "--out", predict);
        Assert.True(r.Code == 0, r.Err);
        var lines = File.ReadAllLines(Path.Combine(predict, "scores.csv"));
        Assert.EndsWith("anomalous", lines[0], StringComparison.Ordinal);
        Assert.Equal(SyntheticDataset.TestGoodCount + 1, lines.Length);
        Assert.Equal(SyntheticDataset.TestGoodCount, Directory.GetFiles(Path.Combine(predict, "heatmaps"), "*.png").Length);
    }

    /// <summary>test reports the training time the model recorded (it used to write "train_seconds": 0), and leaves
    /// it out for a model that recorded none.</summary>
    [Fact]
    public void TestMetrics_CarryTheModelsTrainingTime()
    {
        string model = Train();
        double recorded;
        using (var m = PromptAD.Model.PromptAdModel.Load(model)) recorded = m.Metadata.TrainSeconds!.Value;
        Assert.True(recorded > 0);
        string test = Path.Combine(_dir, "test-time");
        Assert.Equal(0, Test(model, test, "--no-heatmaps").Code);
        using (var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(test, "metrics.json"))))
            Assert.Equal(recorded, doc.RootElement.GetProperty("train_seconds").GetDouble());

        // A model file from before the training time was recorded.
        string old = Path.Combine(_dir, "old.safetensors");
        using (var m = PromptAD.Model.PromptAdModel.Load(model))
            new PromptAD.Model.PromptAdModel(m.Metadata with { TrainSeconds = null }, m.Image, m.Pixel, m.ImagePrototypes, m.PixelPrototypes, m.Mid1, m.Mid2).Save(old);
        Assert.Equal(0, Test(old, test, "--no-heatmaps").Code);
        Assert.DoesNotContain("train_seconds", File.ReadAllText(Path.Combine(test, "metrics.json")));
    }

    [Fact]
    public void MissingFolder_UnknownCategory_EmptyTrain_AreClearErrors()
    {
        string missing = Path.Combine(_dir, "nowhere");
        var r = Cli("train", "--weights", _weights, "--model", "tiny-test", "--data", missing, "--category", "widget", "--shots", "1", "--out", Path.Combine(_dir, "m.safetensors"));
        Assert.Equal(1, r.Code);
        Assert.Contains(missing, r.Err);

        r = Cli("train", "--weights", _weights, "--model", "tiny-test", "--data", _data, "--category", "gizmo", "--shots", "1", "--out", Path.Combine(_dir, "m.safetensors"));
        Assert.Equal(1, r.Code);
        Assert.Contains(Path.Combine(_data, "gizmo"), r.Err);

        foreach (var f in Directory.GetFiles(Path.Combine(Cat, "train", "good"))) File.Delete(f);
        r = Cli("train", "--weights", _weights, "--model", "tiny-test", "--data", _data, "--category", "widget", "--shots", "1", "--out", Path.Combine(_dir, "m.safetensors"));
        Assert.Equal(1, r.Code);
        Assert.Contains(Path.Combine(Cat, "train", "good"), r.Err);
        Assert.False(File.Exists(Path.Combine(_dir, "m.safetensors")));
    }

    [Fact]
    public void CorruptTestImage_IsSkipped_OrFailsWithStrict()
    {
        string model = Train();
        string corrupt = Path.Combine(Cat, "test", "good", "000.png");
        File.WriteAllText(corrupt, "not a png");
        var r = Test(model, Path.Combine(_dir, "t1"));
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains(corrupt, r.Err);
        Assert.Contains(corrupt, File.ReadAllText(Path.Combine(_dir, "t1", "skipped.txt")));

        r = Test(model, Path.Combine(_dir, "t2"), "--strict");
        Assert.Equal(1, r.Code);
        Assert.Contains(corrupt, r.Err);
        Assert.False(File.Exists(Path.Combine(_dir, "t2", "metrics.json")));
    }

    [Fact]
    public void MaskOfWrongSize_IsAnErrorNamingTheMask()
    {
        string model = Train();
        string mask = Path.Combine(Cat, "ground_truth", SyntheticDataset.DefectType, "001_mask.png");
        using (var img = new SixLabors.ImageSharp.Image<SixLabors.ImageSharp.PixelFormats.L8>(20, 20)) SixLabors.ImageSharp.ImageExtensions.SaveAsPng(img, mask);
        var r = Test(model, Path.Combine(_dir, "t"));
        Assert.Equal(1, r.Code);
        Assert.Contains(mask, r.Err);
    }

    [Fact]
    public void WeightsOfAnotherShape_AndModelOfAnotherBackbone_AreClearErrors()
    {
        // Weights whose shapes are not tiny-test's.
        var other = ClipConfigs.Load("tiny-test") with { EmbedDim = 16 };
        string wrong = Path.Combine(_dir, "wrong.safetensors");
        using (var w = ClipWeights.Random(other, CpuBackend.Instance, seed: 2)) w.SaveSafetensors(wrong);
        var r = Cli("train", "--weights", wrong, "--model", "tiny-test", "--data", _data, "--category", "widget", "--shots", "1", "--out", Path.Combine(_dir, "m.safetensors"));
        Assert.Equal(1, r.Code);
        Assert.Contains(wrong, r.Err);

        string model = Train();
        r = Test(model, Path.Combine(_dir, "t1"), "--backbone", "tiny-test-quickgelu");
        Assert.Equal(1, r.Code);
        Assert.Contains(model, r.Err);
        Assert.Contains("tiny-test-quickgelu", r.Err);

        // Same backbone, other weights: the recorded SHA-256 catches it.
        string seed9 = Path.Combine(_dir, "seed9.safetensors");
        using (var w = ClipWeights.Random(ClipConfigs.Load("tiny-test"), CpuBackend.Instance, seed: 9)) w.SaveSafetensors(seed9);
        r = Cli("test", "--model", model, "--weights", seed9, "--data", _data, "--out", Path.Combine(_dir, "t2"));
        Assert.Equal(1, r.Code);
        Assert.Contains("weights_sha256", r.Err);
    }

    [Fact]
    public void FailedRun_LeavesEarlierResultsIntact()
    {
        string model = Train();
        string test = Path.Combine(_dir, "test");
        Assert.Equal(0, Test(model, test).Code);
        string metrics = Path.Combine(test, "metrics.json");
        string before = File.ReadAllText(metrics);
        File.WriteAllText(Path.Combine(Cat, "test", "good", "001.png"), "broken");
        Assert.Equal(1, Test(model, test, "--strict").Code);
        Assert.Equal(before, File.ReadAllText(metrics));
        Assert.Empty(Directory.GetFiles(test, "*.tmp-*"));
    }

    [Fact]
    public void UnknownShotsIndex_NamesTheShotsFile()
    {
        string shots = Path.Combine(_dir, "widget.txt");
        File.WriteAllText(shots, "#1: 131\n");
        var r = Cli("train", "--weights", _weights, "--model", "tiny-test", "--data", _data, "--category", "widget", "--shots", "1",
            "--shots-file", shots, "--out", Path.Combine(_dir, "m.safetensors"));
        Assert.Equal(1, r.Code);
        Assert.Contains(shots, r.Err);
    }

    [Fact]
    public void Run_ResumesSkippingFinishedRuns()
    {
        string[] args = ["run", "--weights", _weights, "--model", "tiny-test", "--data", _data, "--shots", "1,2", "--seeds", "2", "--epochs", "2",
            "--size", "32", "--out", Path.Combine(_dir, "run")];
        var r = Cli(args);
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("4 done now, 0 done earlier", r.Out);
        Assert.True(File.Exists(Path.Combine(_dir, "run", "results.md")));
        Assert.Contains("| widget |", File.ReadAllText(Path.Combine(_dir, "run", "results.md")));

        // An interrupted job: one run's metrics missing. Only that run is redone.
        File.Delete(Path.Combine(_dir, "run", "runs", "widget", "k2_seed1", "metrics.json"));
        r = Cli(args);
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("1 done now, 3 done earlier", r.Out);
        Assert.Equal(5, File.ReadAllLines(Path.Combine(_dir, "run", "metrics.csv")).Length);
    }

    [Fact]
    public void Predict_WithoutThreshold_WritesScoresWithoutVerdictColumn()
    {
        string model = Train();
        string predict = Path.Combine(_dir, "predict-nothreshold");
        var r = Cli("predict", "--model", model, "--weights", _weights, Path.Combine(Cat, "test", "good"), "--size", "48", "--out", predict);
        Assert.True(r.Code == 0, r.Err);
        var lines = File.ReadAllLines(Path.Combine(predict, "scores.csv"));
        Assert.Equal("path,image_score,prompt_score,vision_max,heatmap", lines[0]);
        Assert.Equal(SyntheticDataset.TestGoodCount + 1, lines.Length);
        Assert.DoesNotContain("anomalous", r.Out);
    }

    [Fact]
    public void Run_KeepModels_OnAFreshFolder_KeepsEveryModel()
    {
        string output = Path.Combine(_dir, "run-keep");
        var r = Cli("run", "--weights", _weights, "--model", "tiny-test", "--data", _data, "--shots", "1", "--seeds", "2", "--epochs", "2",
            "--size", "32", "--keep-models", "--out", output);
        Assert.True(r.Code == 0, r.Err);
        foreach (var run in new[] { "k1_seed0", "k1_seed1" })
        {
            string file = Path.Combine(output, "runs", "widget", run, "model.safetensors");
            Assert.True(File.Exists(file), file);
            using var m = PromptAD.Model.PromptAdModel.Load(file);
            Assert.Equal(1, m.Metadata.Shots);
        }
    }
}
