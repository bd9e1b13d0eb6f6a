using PromptAD.Bench;
using PromptAD.Clip;
using PromptAD.Clip.Imaging;
using PromptAD.Data;
using PromptAD.Model;
using PromptAD.Tensors.Cpu;
using PromptAD.Training;

namespace PromptAD.Tests.Bench;

/// <summary>
/// The benchmarks' and profiler's one set-up (<see cref="RandomWeightsModel"/>): the same model as building it by hand
/// (random weights of the seed, the shots preprocessed one by one, <see cref="Trainer"/>), and shots read through the
/// one image path in order, an unreadable one failing with its name.
/// </summary>
[Collection("Console")]
public sealed class RandomWeightsModelTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("promptad-fixture-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void TrainsTheModelTheHandWrittenSetUpTrains()
    {
        var config = ClipConfigs.Load("tiny-test");
        string category = SyntheticDataset.Generate(Path.Combine(dir, "data"), size: 48);
        var dataset = AnomalyDataset.Open(Path.GetDirectoryName(category)!, Path.GetFileName(category));
        var shots = BenchShots.OneOf(dataset, null);
        var options = new TrainOptions { Epochs = 2, Seed = 4 };
        using var fixture = RandomWeightsModel.Train(CpuBackend.Instance, config, shots, options, seed: 7,
            cancellationToken: TestContext.Current.CancellationToken);

        using var weights = ClipWeights.Random(config, CpuBackend.Instance, 7);
        var pre = new ClipPreprocessor(config.Vision.ImageSize);
        var set = new TrainingSet(shots.Category, shots.ClassName, shots.States, [.. shots.Names.Select(f => pre.Preprocess(f))], shots.Names);
        using var byHand = Trainer.Train(weights, set, options, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Single(shots.Names);
        Assert.Equal(byHand.Image.Ctx, fixture.Model.Image.Ctx);
        Assert.Equal(byHand.Pixel.CtxAb, fixture.Model.Pixel.CtxAb);
        Assert.Equal(byHand.ImagePrototypes.Anomaly, fixture.Model.ImagePrototypes.Anomaly);
        Assert.Equal(byHand.PixelPrototypes.Normal, fixture.Model.PixelPrototypes.Normal);
        Assert.True(fixture.TrainSeconds >= fixture.ImageHeadSeconds && fixture.ImageHeadSeconds > 0);
    }

    [Fact]
    public void DecodeAllKeepsTheOrderAndNamesAnUnreadableFile()
    {
        var config = ClipConfigs.Load("tiny-test");
        string category = SyntheticDataset.Generate(Path.Combine(dir, "data"), size: 48);
        var files = Directory.GetFiles(Path.Combine(category, "train", "good")).Order(StringComparer.Ordinal).Take(3).ToList();
        using var weights = ClipWeights.Random(config, CpuBackend.Instance, 0);
        var images = new ImageBatchEncoder(weights, MidFeatureMode.AsPublished);
        var pre = new ClipPreprocessor(config.Vision.ImageSize);
        var decoded = images.DecodeAll(files, TestContext.Current.CancellationToken);
        Assert.Equal(files.Count, decoded.Length);
        for (int i = 0; i < files.Count; i++) Assert.Equal(pre.Preprocess(files[i]), decoded[i]);

        string broken = Path.Combine(dir, "broken.png");
        File.WriteAllText(broken, "not a picture");
        var e = Assert.Throws<ImageLoadException>(() => images.DecodeAll([files[0], broken], TestContext.Current.CancellationToken));
        Assert.Contains("broken.png", e.Message);
    }
}
