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
    private readonly TinyWorkspace _workspace = new("promptad-verbs-", size: 48);
    private string _dir => _workspace.Dir;
    private string _data => _workspace.Data;
    private string _weights => _workspace.Weights;

    public void Dispose() => _workspace.Dispose();

    private string Cat => Path.Combine(_data, SyntheticDataset.Category);

    internal static (int Code, string Out, string Err) Cli(params string[] args) => Adversarial.Hostile.Cli(args);

    private string Train(string? weights = null, string category = SyntheticDataset.Category, string data = "", string? output = null)
    {
        output ??= Path.Combine(_dir, "model.safetensors");
        var r = Cli("train", "--weights", weights ?? _weights, "--backbone", "tiny-test", "--data", data == "" ? _data : data, "--category", category,
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
        // predict decides with the threshold calibrate stored from the 6 good training images that were not shots
        Assert.Contains("calibrated for a false-alarm rate of 0.2 on 6 good image(s), held-out good images, maps of 192 px", r.Out);
        using (var m = PromptAD.Model.PromptAdModel.Load(Path.Combine(output, "model.safetensors")))
            Assert.Equal((6, 192), (m.Metadata.Threshold!.Images, m.Metadata.Threshold.Size));
        Assert.EndsWith("anomalous", File.ReadLines(Path.Combine(output, "predict", "scores.csv")).First(), StringComparison.Ordinal);
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

    /// <summary>train --mid-features is recorded in the model (with the class word and anomaly states) and test scores
    /// with it; an unknown mode is a usage error naming the option.</summary>
    [Fact]
    public void Train_MidFeatures_IsRecordedInTheModel_AndUsedByTest()
    {
        string model = Path.Combine(_dir, "block.safetensors");
        var r = Cli("train", "--weights", _weights, "--backbone", "tiny-test", "--data", _data, "--category", SyntheticDataset.Category,
            "--shots", "1", "--epochs", "1", "--mid-features", "block-output", "--out", model);
        Assert.True(r.Code == 0, r.Err);
        using (var m = PromptAD.Model.PromptAdModel.Load(model))
        {
            Assert.Equal(MidFeatureMode.BlockOutput, m.Metadata.Options.MidFeatures);
            Assert.Equal("widget", m.Metadata.ClassName);
            Assert.Equal(PromptAD.Jobs.PromptSource.Resolve(null).StatesFor(SyntheticDataset.Category), m.Metadata.AnomalyStates);
        }
        r = Test(model, Path.Combine(_dir, "test-block"));
        Assert.True(r.Code == 0, r.Err);

        r = Cli("train", "--weights", _weights, "--backbone", "tiny-test", "--data", _data, "--category", SyntheticDataset.Category,
            "--shots", "1", "--mid-features", "pre-mlp", "--out", model);
        Assert.Equal(2, r.Code);
        Assert.Contains("--mid-features", r.Err);
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

    /// <summary>A 1024×768 photo: its heatmap overlay is 4:3 (48×36 at --size 48), and its raw map is 1024×768 with the
    /// values of the 48×48 score map resized (bilinear at pixel centres, computed here independently).</summary>
    [Fact]
    public void Predict_NonSquareImage_HeatmapAtItsProportions_RawMapAtItsSize()
    {
        string model = Train();
        string photos = Path.Combine(_dir, "photos");
        Directory.CreateDirectory(photos);
        string photo = Path.Combine(photos, "wide.png");
        using (var img = new SixLabors.ImageSharp.Image<SixLabors.ImageSharp.PixelFormats.Rgb24>(1024, 768))
        {
            for (int y = 0; y < 768; y++)
                for (int x = 0; x < 1024; x++)
                    img[x, y] = new((byte)(x / 4), (byte)(y / 3), (byte)(x > 600 && y < 200 ? 255 : 40));
            SixLabors.ImageSharp.ImageExtensions.SaveAsPng(img, photo);
        }

        foreach (var (format, ext) in new[] { ("tiff", ".tiff"), ("png16", ".png") })
        {
            string predict = Path.Combine(_dir, "predict-wide-" + format);
            var r = Cli("predict", "--model", model, "--weights", _weights, photos, "--size", "48", "--raw-maps", format, "--out", predict);
            Assert.True(r.Code == 0, r.Err);
            using (var heat = SixLabors.ImageSharp.Image.Load(Path.Combine(predict, "heatmaps", "wide.png")))
                Assert.Equal((48, 36 + PromptAD.Heatmaps.HeatmapRenderer.Gap + PromptAD.Heatmaps.HeatmapRenderer.ColorbarHeight), (heat.Width, heat.Height));

            float[] map;
            using (var m = PromptAD.Model.PromptAdModel.Load(model))
            using (var w = ClipWeights.Load(_weights, ClipConfigs.Load("tiny-test"), CpuBackend.Instance))
            using (var detector = new PromptAD.Pipeline.Detector(w, m, 48))
                map = detector.ScoreImages([new PromptAD.Clip.Imaging.ClipPreprocessor(w.Config.Vision.ImageSize).Preprocess(photo)])[0].PixelMap;
            string raw = Path.Combine(predict, "maps", "wide" + ext);
            if (format == "tiff")
            {
                var (rw, rh, values) = PromptAD.Tests.Heatmaps.HeatmapGeometryTests.ReadFloatTiff(raw);
                Assert.Equal((1024, 768), (rw, rh));
                foreach (var (x, y) in new[] { (0, 0), (1023, 767), (500, 300), (10, 700), (1000, 5), (517, 383) })
                    Assert.Equal(Bilinear(map, 48, x, y, 1024, 768), values[y * 1024 + x], 5);
            }
            else
            {
                using var png = SixLabors.ImageSharp.Image.Load<SixLabors.ImageSharp.PixelFormats.L16>(raw);
                Assert.Equal((1024, 768), (png.Width, png.Height));
                foreach (var (x, y) in new[] { (0, 0), (1023, 767), (500, 300), (517, 383) })
                    Assert.InRange(png[x, y].PackedValue, 65535 * Bilinear(map, 48, x, y, 1024, 768) - 1, 65535 * Bilinear(map, 48, x, y, 1024, 768) + 1);
            }
        }
    }

    /// <summary>Reference bilinear sample of a side×side map at output pixel (x, y) of an outW×outH resize (half-pixel centres, edge clamped).</summary>
    private static double Bilinear(float[] map, int side, int x, int y, int outW, int outH)
    {
        double sx = Math.Clamp((x + 0.5) * side / outW - 0.5, 0, side - 1), sy = Math.Clamp((y + 0.5) * side / outH - 0.5, 0, side - 1);
        int x0 = (int)sx, y0 = (int)sy, x1 = Math.Min(x0 + 1, side - 1), y1 = Math.Min(y0 + 1, side - 1);
        double fx = sx - x0, fy = sy - y0;
        double V(int xx, int yy) => map[yy * side + xx];
        return (1 - fy) * ((1 - fx) * V(x0, y0) + fx * V(x1, y0)) + fy * ((1 - fx) * V(x0, y1) + fx * V(x1, y1));
    }

    [Fact]
    public void Test_RawMaps_OnePerImageAtItsSize()
    {
        string model = Train();
        string test = Path.Combine(_dir, "test-raw");
        var r = Test(model, test, "--raw-maps", "png16", "--no-heatmaps");
        Assert.True(r.Code == 0, r.Err);
        Assert.False(Directory.Exists(Path.Combine(test, "heatmaps")));
        var maps = Directory.GetFiles(Path.Combine(test, "maps", SyntheticDataset.DefectType), "*.png");
        Assert.Equal(SyntheticDataset.TestDefectCount, maps.Length);
        using var png = SixLabors.ImageSharp.Image.Load(maps[0]);
        Assert.Equal((48, 48), (png.Width, png.Height));
        Assert.Equal(2, Cli("test", "--model", model, "--weights", _weights, "--data", _data, "--out", test, "--raw-maps", "jpeg").Code);
    }

    /// <summary>--model names only a trained model file; the old spelling for the backbone fails naming --backbone.</summary>
    [Fact]
    public void ModelAsBackbone_FailsNamingBackbone()
    {
        string m = Path.Combine(_dir, "m.safetensors");
        foreach (string[] args in new[]
        {
            new[] { "train", "--weights", _weights, "--model", "tiny-test", "--data", _data, "--category", "widget", "--shots", "1", "--out", m },
            ["run", "--weights", _weights, "--model", "tiny-test", "--data", _data, "--out", Path.Combine(_dir, "run-old")],
            ["encode", "--weights", _weights, "--model", "tiny-test", "--prompts", "a photo", "--out", Path.Combine(_dir, "f.safetensors")],
        })
        {
            var r = Cli(args);
            Assert.Equal(2, r.Code);
            Assert.Contains("--backbone tiny-test", r.Err);
            Assert.False(File.Exists(m));
        }
    }

    [Fact]
    public void MissingFolder_UnknownCategory_EmptyTrain_AreClearErrors()
    {
        string missing = Path.Combine(_dir, "nowhere");
        var r = Cli("train", "--weights", _weights, "--backbone", "tiny-test", "--data", missing, "--category", "widget", "--shots", "1", "--out", Path.Combine(_dir, "m.safetensors"));
        Assert.Equal(1, r.Code);
        Assert.Contains(missing, r.Err);

        r = Cli("train", "--weights", _weights, "--backbone", "tiny-test", "--data", _data, "--category", "gizmo", "--shots", "1", "--out", Path.Combine(_dir, "m.safetensors"));
        Assert.Equal(1, r.Code);
        Assert.Contains(Path.Combine(_data, "gizmo"), r.Err);

        foreach (var f in Directory.GetFiles(Path.Combine(Cat, "train", "good"))) File.Delete(f);
        r = Cli("train", "--weights", _weights, "--backbone", "tiny-test", "--data", _data, "--category", "widget", "--shots", "1", "--out", Path.Combine(_dir, "m.safetensors"));
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
        var r = Cli("train", "--weights", wrong, "--backbone", "tiny-test", "--data", _data, "--category", "widget", "--shots", "1", "--out", Path.Combine(_dir, "m.safetensors"));
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
        var r = Cli("train", "--weights", _weights, "--backbone", "tiny-test", "--data", _data, "--category", "widget", "--shots", "1",
            "--shots-file", shots, "--out", Path.Combine(_dir, "m.safetensors"));
        Assert.Equal(1, r.Code);
        Assert.Contains(shots, r.Err);
    }

    [Fact]
    public void Run_ResumesSkippingFinishedRuns()
    {
        string[] args = ["run", "--weights", _weights, "--backbone", "tiny-test", "--data", _data, "--shots", "1,2", "--seeds", "2", "--epochs", "2",
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
        var r = Cli("run", "--weights", _weights, "--backbone", "tiny-test", "--data", _data, "--shots", "1", "--seeds", "2", "--epochs", "2",
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
