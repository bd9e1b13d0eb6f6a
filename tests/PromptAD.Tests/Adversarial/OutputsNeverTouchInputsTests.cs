using PromptAD.Data;

namespace PromptAD.Tests.Adversarial;

/// <summary>
/// #12 item 3, 6 and 13: an --out that is an input, inside a dataset in use, or not a regular file/folder is refused
/// before any work (usage error, exit 2), and the input is byte-for-byte unchanged.
/// </summary>
[Collection("Console")]
public sealed class OutputsNeverTouchInputsTests : IDisposable
{
    private readonly Hostile _h = new();

    public void Dispose() => _h.Dispose();

    [Fact]
    public void Train_OutIsTheWeights_IsRefused_AndTheWeightsStay()
    {
        string before = Hostile.Sha(_h.Weights);
        var r = Hostile.Cli(_h.TrainArgs(_h.Weights));
        Assert.Equal(2, r.Code);
        Assert.Contains("weights file", r.Err);
        Assert.Equal(before, Hostile.Sha(_h.Weights));
        Assert.DoesNotContain("train widget", r.Out); // refused before any work

        // Through a symbolic link and a hard link too.
        string link = _h.P("link.safetensors");
        File.CreateSymbolicLink(link, _h.Weights);
        Assert.Equal(2, Hostile.Cli(_h.TrainArgs(link)).Code);
        string hard = _h.P("hard.safetensors");
        Assert.True(Hostile.Tool("ln", _h.Weights, hard));
        Assert.Equal(2, Hostile.Cli(_h.TrainArgs(hard)).Code);
        Assert.Equal(before, Hostile.Sha(_h.Weights));
    }

    [Fact]
    public void Encode_OutIsTheWeights_IsRefused()
    {
        string before = Hostile.Sha(_h.Weights);
        var r = Hostile.Cli("encode", "--weights", _h.Weights, "--backbone", "tiny-test", "--prompts", "a photo", "--out", _h.Weights);
        Assert.Equal(2, r.Code);
        Assert.Contains("weights file", r.Err);
        Assert.Equal(before, Hostile.Sha(_h.Weights));
    }

    [Fact]
    public void Train_OutIsTheInitModel_IsRefused()
    {
        string model = _h.TrainModel();
        string before = Hostile.Sha(model);
        var r = Hostile.Cli([.. _h.TrainArgs(model), "--init", model]);
        Assert.Equal(2, r.Code);
        Assert.Contains("--init model", r.Err);
        Assert.Equal(before, Hostile.Sha(model));
    }

    [Fact]
    public void OutIsAFifoOrADevice_IsRefused_WithoutOpeningIt()
    {
        string fifo = Hostile.MakeFifo(_h.P("out.fifo"));
        var r = Hostile.Cli(_h.TrainArgs(fifo));
        Assert.Equal(2, r.Code);
        Assert.Contains("not a regular file", r.Err);
        Assert.True(Hostile.IsSpecial(fifo));

        string link = _h.P("to-fifo.safetensors");
        File.CreateSymbolicLink(link, fifo);
        Assert.Equal(2, Hostile.Cli(_h.TrainArgs(link)).Code);
        Assert.True(Hostile.IsSpecial(fifo));

        // A device node (made where we may: root, as CI runs) stays a device node.
        if (Hostile.MakeCharDevice(_h.P("null-device")) is { } device)
        {
            r = Hostile.Cli(_h.TrainArgs(device));
            Assert.Equal(2, r.Code);
            Assert.True(Hostile.IsSpecial(device));
        }
    }

    [Fact]
    public void Test_OutInsideTheDataset_IsRefused_AndTheDatasetStaysUsable()
    {
        string model = _h.TrainModel();
        var before = Hostile.Snapshot(_h.Data);
        string inside = Path.Combine(_h.Category, "test");
        var r = Hostile.Cli("test", "--model", model, "--weights", _h.Weights, "--data", _h.Data, "--size", "32", "--out", inside);
        Assert.Equal(2, r.Code);
        Assert.Contains("dataset", r.Err);
        Assert.Equal(before, Hostile.Snapshot(_h.Data));

        r = Hostile.Cli("test", "--model", model, "--weights", _h.Weights, "--data", _h.Data, "--size", "32", "--out", _h.P("t"));
        Assert.True(r.Code == 0, r.Err);
    }

    [Fact]
    public void Test_OutNamingAFile_FailsBeforeScoring()
    {
        string model = _h.TrainModel();
        string file = _h.P("results.txt");
        File.WriteAllText(file, "keep me");
        var r = Hostile.Cli("test", "--model", model, "--weights", _h.Weights, "--data", _h.Data, "--size", "32", "--out", file);
        Assert.Equal(2, r.Code);
        Assert.Contains("expected a folder", r.Err);
        Assert.Equal("keep me", File.ReadAllText(file));
        Assert.DoesNotContain("test widget", r.Err + r.Out); // no progress bar: nothing was scored
    }

    [Fact]
    public void Predict_OutInsideAnImageFolder_IsRefused()
    {
        string model = _h.TrainModel();
        string images = Path.Combine(_h.Category, "test", AnomalyDataset.GoodFolder);
        var before = Hostile.Snapshot(images);
        var r = Hostile.Cli("predict", "--model", model, "--weights", _h.Weights, images, "--size", "32", "--out", Path.Combine(images, "pred"));
        Assert.Equal(2, r.Code);
        Assert.Contains("image input", r.Err);
        Assert.Equal(before, Hostile.Snapshot(images));

        // An image where predict writes its heatmaps.
        string heat = _h.P("p", "heatmaps");
        Directory.CreateDirectory(heat);
        File.Copy(Directory.GetFiles(images)[0], Path.Combine(heat, "x.png"));
        r = Hostile.Cli("predict", "--model", model, "--weights", _h.Weights, Path.Combine(heat, "x.png"), "--size", "32", "--out", _h.P("p"));
        Assert.Equal(2, r.Code);
        Assert.Contains("heatmaps", r.Err);
    }

    [Fact]
    public void Run_OutInsideTheDataset_IsRefused()
    {
        var before = Hostile.Snapshot(_h.Data);
        var r = Hostile.Cli("run", "--weights", _h.Weights, "--backbone", "tiny-test", "--data", _h.Data, "--shots", "1", "--seeds", "1", "--epochs", "1",
            "--size", "32", "--out", Path.Combine(_h.Data, "results"));
        Assert.Equal(2, r.Code);
        Assert.Contains("dataset", r.Err);
        Assert.Equal(before, Hostile.Snapshot(_h.Data));
    }
}
