using PromptAD.Data;
using PromptAD.Model;

namespace PromptAD.Tests.Adversarial;

/// <summary>
/// One output rule for every file a verb writes (calibrate's model, predict's and test's maps/, serve's heatmaps,
/// demo's folder): an output that is an input, a link to one, inside an input folder, or not a regular file/folder is
/// refused before any work (usage error, exit 2) and the input is byte-for-byte unchanged; a failed command writes
/// nothing.
/// </summary>
[Collection("Console")]
public sealed class EveryOutputGuardedTests : IDisposable
{
    private readonly Hostile _h = new();

    public void Dispose() => _h.Dispose();

    private string Good => Path.Combine(_h.Category, "test", AnomalyDataset.GoodFolder);

    private string[] Calibrate(string model, string output, params string[] extra) =>
        ["calibrate", "--model", model, "--weights", _h.Weights, "--good", Good, "--fpr", "0.4", "--size", "32", "--out", output, .. extra];


    [Fact]
    public void Calibrate_OutIsAnInput_IsRefused_AndTheInputsStay()
    {
        string model = _h.TrainModel();
        string weightsSha = Hostile.Sha(_h.Weights), modelSha = Hostile.Sha(model);
        var data = Hostile.Snapshot(_h.Data);

        Hostile.Usage(Hostile.Cli(Calibrate(model, _h.Weights)), "weights file");
        string link = _h.P("to-weights.safetensors");
        File.CreateSymbolicLink(link, _h.Weights);
        Hostile.Usage(Hostile.Cli(Calibrate(model, link)), "weights file");
        string image = Directory.GetFiles(Good).Order(StringComparer.Ordinal).First();
        Hostile.Usage(Hostile.Cli(Calibrate(model, image)), image);
        string prompts = _h.P("prompts.json");
        File.WriteAllText(prompts, """{"generic_states": ["damaged {}"], "category_states": {}, "class_names": {}}""");
        string promptsSha = Hostile.Sha(prompts);
        Hostile.Usage(Hostile.Cli(Calibrate(model, prompts, "--prompts", prompts)), "prompts file");
        Assert.Equal(promptsSha, Hostile.Sha(prompts));

        string fifo = Hostile.MakeFifo(_h.P("out.fifo"));
        Hostile.Usage(Hostile.Cli(Calibrate(model, fifo)), "not a regular file");
        Assert.True(Hostile.IsSpecial(fifo));
        if (Hostile.MakeCharDevice(_h.P("null-device")) is { } device)
        {
            Hostile.Usage(Hostile.Cli(Calibrate(model, device)), "not a regular file");
            Assert.True(Hostile.IsSpecial(device));
        }

        // Leave-one-out: --out onto one of the model's own shots, inside --data.
        string shot = Path.Combine(_h.Category, "train", AnomalyDataset.GoodFolder, "000.png");
        var r = Hostile.Cli("calibrate", "--model", model, "--weights", _h.Weights, "--data", _h.Data, "--size", "32", "--out", shot);
        Hostile.Usage(r, "dataset");

        Assert.Equal(weightsSha, Hostile.Sha(_h.Weights));
        Assert.Equal(modelSha, Hostile.Sha(model));
        Assert.Equal(data, Hostile.Snapshot(_h.Data));
    }

    [Fact]
    public void Calibrate_FprOutOfRange_FailsBeforeWriting_AndTheModelStays()
    {
        string model = _h.TrainModel();
        string before = Hostile.Sha(model);
        foreach (string fpr in new[] { "1e-10", "1e-19", "1e-300", "0", "-0.1", "1", "NaN" })
        {
            var r = Hostile.Cli("calibrate", "--model", model, "--weights", _h.Weights, "--good", Good, "--fpr", fpr, "--size", "32");
            Hostile.Usage(r, "--fpr");
            Assert.Equal(before, Hostile.Sha(model));
        }
    }

    [Fact]
    public void Predict_RawMapsIntoAFolderHoldingAnInput_IsRefused()
    {
        string model = _h.TrainModel();
        string maps = _h.P("o", "maps");
        Directory.CreateDirectory(maps);
        string input = Path.Combine(maps, "good.png");
        File.Copy(Directory.GetFiles(Good).Order(StringComparer.Ordinal).First(), input);
        string before = Hostile.Sha(input);
        var r = Hostile.Cli("predict", "--model", model, "--weights", _h.Weights, input, "--size", "32", "--out", _h.P("o"), "--raw-maps", "png16");
        Hostile.Usage(r, "maps");
        Assert.Equal(before, Hostile.Sha(input));
    }

    [Fact]
    public void Test_RawMapsIntoTheDataset_IsRefused()
    {
        string model = _h.TrainModel();
        // --out is the category's test folder's parent's sibling… simplest hostile case: maps/ is the dataset root.
        string output = _h.P("t");
        Directory.CreateDirectory(output);
        File.CreateSymbolicLink(Path.Combine(output, "maps"), _h.Data);
        var before = Hostile.Snapshot(_h.Data);
        var r = Hostile.Cli("test", "--model", model, "--weights", _h.Weights, "--data", _h.Data, "--size", "32", "--out", output, "--raw-maps", "tiff");
        Hostile.Usage(r, "maps");
        Assert.Equal(before, Hostile.Snapshot(_h.Data));
    }

    [Fact]
    public void Serve_HeatmapsFolder_IsGuarded_AndNeverOverwrites()
    {
        string model = _h.TrainModel();
        string image = Directory.GetFiles(Good).Order(StringComparer.Ordinal).First();
        (int, string, string) Serve(string heatmaps, string input)
        {
            var oldIn = Console.In;
            Console.SetIn(new StringReader(input));
            try { return Hostile.Cli("serve", "--model", "m=" + model, "--weights", _h.Weights, "--heatmaps", heatmaps, "--size", "32"); }
            finally { Console.SetIn(oldIn); }
        }

        Hostile.Usage(Serve(model, image + "\n"), "model file");
        string fifo = Hostile.MakeFifo(_h.P("maps.fifo"));
        Hostile.Usage(Serve(fifo, image + "\n"), "not a regular file");
        if (Hostile.MakeCharDevice(_h.P("null-device")) is { } device) Hostile.Usage(Serve(device, image + "\n"), "not a regular file");
        Hostile.Usage(Serve(Path.Combine(_h.Data, "maps"), image + "\n"), "dataset");

        string maps = _h.P("maps");
        var first = Serve(maps, image + "\n");
        Assert.True(first.Item1 == 0, first.Item3);
        var written = Directory.GetFiles(maps).ToDictionary(f => f, Hostile.Sha);
        Assert.Single(written);
        var second = Serve(maps, image + "\n" + image + "\n");
        Assert.True(second.Item1 == 0, second.Item3);
        Assert.DoesNotContain("error", second.Item2);
        Assert.Equal(3, Directory.GetFiles(maps).Length);
        foreach (var (f, sha) in written) Assert.Equal(sha, Hostile.Sha(f)); // the first run's heatmap is kept as it was
    }

    [Fact]
    public void Demo_IntoAFolderThatHoldsFiles_OrIntoADataset_IsRefused()
    {
        string keep = _h.P("mine");
        Directory.CreateDirectory(keep);
        File.WriteAllText(Path.Combine(keep, "model.safetensors"), "keep me");
        Hostile.Usage(Hostile.Cli("demo", "--out", keep, "--epochs", "1"), "not empty");
        Assert.Equal("keep me", File.ReadAllText(Path.Combine(keep, "model.safetensors")));

        var before = Hostile.Snapshot(_h.Data);
        Hostile.Usage(Hostile.Cli("demo", "--out", Path.Combine(_h.Data, "demo"), "--epochs", "1"), "dataset");
        Assert.False(Directory.Exists(Path.Combine(_h.Data, "demo")));
        Assert.Equal(before, Hostile.Snapshot(_h.Data));
    }
}
