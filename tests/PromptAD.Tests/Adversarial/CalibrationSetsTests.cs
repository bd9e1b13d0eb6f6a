using PromptAD.Data;
using PromptAD.Model;

namespace PromptAD.Tests.Adversarial;

/// <summary>
/// calibrate refuses good-image sets that would bias its threshold: the model's own shots among --good (found by their
/// content, with or without --data), one image counted several times, and a leave-one-out --data whose images are
/// not the ones the model was trained on. The model is left as it was.
/// </summary>
[Collection("Console")]
public sealed class CalibrationSetsTests : IDisposable
{
    private readonly Hostile _h = new();

    public void Dispose() => _h.Dispose();


    [Fact]
    public void BiasedGoodSets_AreRefused_AndTheModelStays()
    {
        string model = _h.TrainModel();
        string before = Hostile.Sha(model);
        string[] shots;
        using (var m = PromptAdModel.Load(model)) shots = [.. m.Metadata.ShotFiles.Select(f => Path.Combine(_h.Data, f))];
        string trainGood = Path.Combine(_h.Category, "train", AnomalyDataset.GoodFolder);
        string testGood = Path.Combine(_h.Category, "test", AnomalyDataset.GoodFolder);
        string[] Calibrate(params string[] good) => ["calibrate", "--model", model, "--weights", _h.Weights, "--size", "32", "--fpr", "0.4", "--good", .. good];

        // The shots, found by content even as copies elsewhere and without --data.
        Hostile.Usage(Hostile.Cli(Calibrate(trainGood)), "shot");
        string copies = _h.P("copies");
        Directory.CreateDirectory(copies);
        foreach (var (shot, i) in shots.Select((s, i) => (s, i))) File.Copy(shot, Path.Combine(copies, $"renamed{i}.png"));
        Hostile.Usage(Hostile.Cli(Calibrate(testGood, copies)), "shot");

        // One image three times is one good image, not three.
        string image = Directory.GetFiles(testGood).Order(StringComparer.Ordinal).First();
        string copy = _h.P("same.png");
        File.Copy(image, copy);
        Hostile.Usage(Hostile.Cli(Calibrate(image, image, copy)), "same image");

        // Leave-one-out over a dataset with the same names but other images.
        string other = _h.P("other");
        SyntheticDataset.Generate(other, seed: 7, size: 32);
        Hostile.Usage(Hostile.Cli("calibrate", "--model", model, "--weights", _h.Weights, "--size", "32", "--data", other), "not the image the model was trained on");

        Assert.Equal(before, Hostile.Sha(model));
        var ok = Hostile.Cli(Calibrate(testGood));
        Assert.True(ok.Code == 0, ok.Err);
    }
}
