using System.Globalization;
using PromptAD.Calibration;
using PromptAD.Clip;
using PromptAD.Data;
using PromptAD.Model;
using PromptAD.Tensors.Cpu;

namespace PromptAD.Tests.Calibration;

/// <summary>
/// `calibrate` through Program.Main on the synthetic dataset with the tiny backbone. The scores it rests on are checked
/// against scores obtained another way: `predict` on the held-out images, and, for leave-one-out, `train` on the
/// other shots (--shot-names) followed by `predict` on the left-out one.
/// </summary>
[Collection("Console")]
public sealed class CalibrateVerbTests : IDisposable
{
    private readonly TinyWorkspace _workspace = new("promptad-calibrate-", size: 40);
    private string _dir => _workspace.Dir;
    private string _data => _workspace.Data;
    private string _weights => _workspace.Weights;

    public void Dispose() => _workspace.Dispose();

    private string Good => Path.Combine(_data, SyntheticDataset.Category, "test", "good");

    private static (int Code, string Out, string Err) Cli(params string[] args) => ConsoleCapture.Run(() => PromptAD.Program.Main(args));

    private string Train(string name, params string[] shotNames)
    {
        string output = Path.Combine(_dir, name + ".safetensors");
        var r = Cli(["train", "--weights", _weights, "--backbone", "tiny-test", "--data", _data, "--category", SyntheticDataset.Category,
            "--shots", shotNames.Length.ToString(CultureInfo.InvariantCulture), "--shot-names", .. shotNames, "--epochs", "3", "--out", output]);
        Assert.True(r.Code == 0, r.Err);
        return output;
    }

    /// <summary>predict's scores.csv: path → (image score, anomalous column or null).</summary>
    private Dictionary<string, (float Score, string? Anomalous)> Predict(string model, string output, params string[] extra)
    {
        var r = Cli(["predict", "--model", model, "--weights", _weights, "--size", "48", "--batch", "1", "--out", output, .. extra]);
        Assert.True(r.Code == 0, r.Err);
        var lines = File.ReadAllLines(Path.Combine(output, "scores.csv"));
        bool decision = lines[0].EndsWith("anomalous", StringComparison.Ordinal);
        return lines.Skip(1).Select(l => l.Split(',')).ToDictionary(f => Path.GetFileName(f[0]),
            f => (float.Parse(f[1], CultureInfo.InvariantCulture), decision ? f[^1] : null));
    }

    private string[] TrainNames => [.. Directory.GetFiles(Path.Combine(_data, SyntheticDataset.Category, "train", "good")).Select(Path.GetFileName).Order(StringComparer.Ordinal)!];

    [Fact]
    public void HeldOut_ThresholdIsAboveTheRightGoodScore_AndPredictUsesIt()
    {
        var names = TrainNames;
        string model = Train("m", names[0], names[1]);
        var scores = Predict(model, Path.Combine(_dir, "p0"), Good);
        Assert.All(scores.Values, s => Assert.Null(s.Anomalous)); // not calibrated: no decision

        // 4 good images, α = 0.4: r = ⌈5 × 0.6⌉ = 3 → anomalous above the third-lowest score.
        string calibrated = Path.Combine(_dir, "calibrated.safetensors");
        var r = Cli("calibrate", "--model", model, "--weights", _weights, "--good", Good, "--fpr", "0.4", "--size", "48", "--out", calibrated);
        Assert.True(r.Code == 0, r.Err);
        Assert.DoesNotContain("warning", r.Err);
        using (var m = PromptAdModel.Load(model)) Assert.Null(m.Metadata.Threshold); // --out leaves the input alone
        StoredThreshold t;
        using (var m = PromptAdModel.Load(calibrated)) t = m.Metadata.Threshold!;
        var sorted = scores.Values.Select(s => s.Score).Order().ToList();
        Assert.Equal(sorted[2], MathF.BitDecrement(t.Threshold), 1e-5f);
        Assert.Equal((0.4, 4, 3, 48, StoredThreshold.Methods.HeldOut), (t.TargetFpr, t.Images, t.Rank, t.Size, t.Method));

        // predict takes the stored threshold: exactly the highest-scoring good image is flagged (1 of 4)
        var decided = Predict(calibrated, Path.Combine(_dir, "p1"), Good);
        Assert.Equal(1, decided.Values.Count(s => s.Anomalous == "yes"));
        Assert.Equal("yes", decided.MaxBy(kv => kv.Value.Score).Value.Anomalous);
        // --threshold overrides it
        var overridden = Predict(calibrated, Path.Combine(_dir, "p2"), Good, "--threshold", "-1000");
        Assert.All(overridden.Values, s => Assert.Equal("yes", s.Anomalous));
    }

    /// <summary>A threshold calibrated on 240 px maps is refused by predict and serve at --size 400 (naming both sizes),
    /// not silently applied; --threshold still decides at any size, and NaN is a usage error in both verbs.</summary>
    [Fact]
    public void AThresholdCalibratedAtAnotherSize_IsRefusedByPredictAndServe()
    {
        var names = TrainNames;
        string model = Train("m", names[0], names[1]);
        string calibrated = Path.Combine(_dir, "calibrated-240.safetensors");
        var r = Cli("calibrate", "--model", model, "--weights", _weights, "--good", Good, "--fpr", "0.4", "--size", "240", "--out", calibrated);
        Assert.True(r.Code == 0, r.Err);

        string predicted = Path.Combine(_dir, "p400");
        r = Cli("predict", "--model", calibrated, "--weights", _weights, "--size", "400", "--out", predicted, Good);
        Assert.Equal(2, r.Code);
        Assert.Contains("calibrated on 240 px maps", r.Err);
        Assert.Contains("400 px maps", r.Err);
        Assert.False(File.Exists(Path.Combine(predicted, "scores.csv")));
        Assert.Equal(0, Cli("predict", "--model", calibrated, "--weights", _weights, "--size", "240", "--out", Path.Combine(_dir, "p240"), Good).Code);
        Assert.Equal(0, Cli("predict", "--model", calibrated, "--weights", _weights, "--size", "400", "--threshold", "0.5",
            "--out", Path.Combine(_dir, "p400t"), Good).Code);

        var input = new StringReader(Path.Combine(Good, "000.png") + "\n");
        var (output, log) = (new StringWriter(), new StringWriter());
        var e = Assert.Throws<ThresholdSizeException>(() => PromptAD.Cli.ServeCommand.Run(["a=" + calibrated], new FileInfo(_weights), null, null,
            "127.0.0.1", 1000, null, null, 400, 2, global::PromptAD.Pipeline.ComputeDevice.Cpu, input, output, log, TestContext.Current.CancellationToken));
        Assert.Contains("model 'a'", e.Message);
        Assert.Equal((240, 400), (e.CalibratedSize, e.MapSize));
        Assert.Equal("", output.ToString()); // nothing answered under a threshold that does not hold

        foreach (string verb in new[] { "predict", "serve" })
        {
            var bad = Cli(verb, "--model", calibrated, "--weights", _weights, "--threshold", "nan", "--out", Path.Combine(_dir, "nan"));
            Assert.Equal(2, bad.Code);
            Assert.Contains("--threshold must be a finite number", bad.Err);
        }
    }

    [Fact]
    public void LeaveOneOut_ScoresEachShotWithAModelTrainedOnTheOthers()
    {
        var names = TrainNames;
        string[] shots = [names[0], names[3], names[5]];
        string model = Train("m3", shots);
        string copy = Path.Combine(_dir, "m3-in-place.safetensors");
        File.Copy(model, copy);
        // in place (no --out); 3 scores, α = 0.5: r = ⌈4 × 0.5⌉ = 2
        var r = Cli("calibrate", "--model", copy, "--weights", _weights, "--data", _data, "--fpr", "0.5", "--size", "48");
        Assert.True(r.Code == 0, r.Err);
        StoredThreshold t;
        using (var m = PromptAdModel.Load(copy)) t = m.Metadata.Threshold!;
        Assert.Equal((3, 2, StoredThreshold.Methods.LeaveOneOut), (t.Images, t.Rank, t.Method));

        // The same three scores another way: train on two shots (same seed and epochs), predict the third.
        var loo = new List<float>();
        for (int i = 0; i < 3; i++)
        {
            string fold = Train($"fold{i}", [.. shots.Where((_, j) => j != i)]);
            string image = Path.Combine(_data, SyntheticDataset.Category, "train", "good", shots[i]);
            loo.Add(Predict(fold, Path.Combine(_dir, $"fold{i}-p"), image)[shots[i]].Score);
        }
        Assert.Equal(loo.Order().ElementAt(1), MathF.BitDecrement(t.Threshold), 1e-5f);
    }

    /// <summary>Leave-one-out with k = 4 encodes the 4 shot images once, not once per fold they are in.</summary>
    [Fact]
    public void LeaveOneOut_EncodesEachShotOnce()
    {
        var names = TrainNames;
        string model = Train("m4", names[0], names[2], names[4], names[6]);
        var r = Cli("calibrate", "--model", model, "--weights", _weights, "--data", _data, "--fpr", "0.5", "--size", "48");
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("leave-one-out: 4 folds, 4 shot image(s) encoded (each once)", r.Out);
    }

    [Fact]
    public void TooFewImages_Warn_AndStillStoreTheHighestScore()
    {
        var names = TrainNames;
        string model = Train("m", names[0], names[1]);
        var r = Cli("calibrate", "--model", model, "--weights", _weights, "--good", Good, "--size", "48"); // default α = 0.01
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("warning: 4 good image(s) cannot support a false-alarm rate of 0.01", r.Err);
        Assert.Contains("1/(n+1) = 0.2", r.Err);
        Assert.Contains("99 good images", r.Err);
        using var m = PromptAdModel.Load(model);
        Assert.Equal((0.01, 4, 4), (m.Metadata.Threshold!.TargetFpr, m.Metadata.Threshold.Images, m.Metadata.Threshold.Rank));
    }

    [Fact]
    public void BadInput_IsAClearUsageError()
    {
        var names = TrainNames;
        string one = Train("one", names[0]);
        var r = Cli("calibrate", "--model", one, "--weights", _weights, "--data", _data);
        Assert.Equal(2, r.Code);
        Assert.Contains("--good", r.Err);

        r = Cli("calibrate", "--model", one, "--weights", _weights);
        Assert.Equal(2, r.Code);
        Assert.Contains("--data", r.Err);

        r = Cli("calibrate", "--model", one, "--weights", _weights, "--good", Good, "--fpr", "1.5");
        Assert.Equal(2, r.Code);
        Assert.Contains("--fpr", r.Err);

        string shot = Path.Combine(_data, SyntheticDataset.Category, "train", "good", names[0]);
        r = Cli("calibrate", "--model", one, "--weights", _weights, "--good", shot, Good, "--data", _data);
        Assert.Equal(2, r.Code);
        Assert.Contains(names[0], r.Err);
        using var m = PromptAdModel.Load(one);
        Assert.Null(m.Metadata.Threshold); // failed runs leave the model as it was
    }

    /// <summary>The README's Deployment examples, in order, with the tiny model (HTTP: see StdioServiceTests' SIGTERM test).</summary>
    [Fact]
    public void ReadmeExamples_Run()
    {
        var names = TrainNames;
        string widget = Train("widget", names[0], names[1]);
        // every verb at --size 48 (the README's commands use the default 400): a threshold holds at the size it was calibrated at
        var r = Cli("calibrate", "--model", widget, "--weights", _weights, "--good", Good, "--fpr", "0.05", "--size", "48");
        Assert.True(r.Code == 0, r.Err);
        string calibrated = Path.Combine(_dir, "widget-calibrated.safetensors");
        r = Cli("calibrate", "--model", widget, "--weights", _weights, "--data", _data, "--out", calibrated, "--size", "48");
        Assert.True(r.Code == 0, r.Err);
        using (var m = PromptAdModel.Load(calibrated)) Assert.Equal(StoredThreshold.Methods.LeaveOneOut, m.Metadata.Threshold!.Method);
        var decided = Predict(calibrated, Path.Combine(_dir, "pred"), Good);
        Assert.All(decided.Values, d => Assert.NotNull(d.Anomalous));

        // ls photos/*.png | promptad serve --model widget=… --weights … --heatmaps maps/
        var photos = Directory.GetFiles(Good, "*.png").Order(StringComparer.Ordinal).ToList();
        var oldIn = Console.In;
        Console.SetIn(new StringReader(string.Join('\n', photos) + "\n"));
        try { r = Cli("serve", "--model", "widget=" + calibrated, "--weights", _weights, "--heatmaps", Path.Combine(_dir, "maps"), "--size", "48"); }
        finally { Console.SetIn(oldIn); }
        Assert.True(r.Code == 0, r.Err);
        var answers = r.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => System.Text.Json.JsonSerializer.Deserialize(l, PromptAD.Serving.ServiceJsonContext.Default.ScoreAnswer)!).ToList();
        Assert.Equal(photos, answers.Select(a => a.Path));
        for (int i = 0; i < photos.Count; i++)
        {
            Assert.Equal(decided[Path.GetFileName(photos[i])].Score, answers[i].Score!.Value, 1e-4f);
            Assert.Equal(decided[Path.GetFileName(photos[i])].Anomalous == "yes", answers[i].Anomalous);
            Assert.True(File.Exists(answers[i].Heatmap));
        }
    }
}
