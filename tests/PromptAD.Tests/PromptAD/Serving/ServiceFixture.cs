using PromptAD.Clip;
using PromptAD.Clip.Imaging;
using PromptAD.Data;
using PromptAD.Model;
using PromptAD.Pipeline;
using PromptAD.Tensors.Cpu;
using PromptAD.Training;

namespace PromptAD.Tests.Serving;

/// <summary>
/// What the service tests share: the synthetic dataset, tiny random weights (in memory and as a file), two tiny models
/// trained on different shots (files "a" and "b"), and each test image's score computed directly by a
/// <see cref="Detector"/> at batch 1 — what every answer of the service must reproduce.
/// </summary>
public sealed class ServiceFixture : IDisposable
{
    public const int Size = 24;

    public ServiceFixture()
    {
        Dir = Directory.CreateTempSubdirectory("promptad-serve-").FullName;
        SyntheticDataset.Generate(Path.Combine(Dir, "data"), size: 40);
        Config = ClipConfigs.Load("tiny-test");
        Weights = ClipWeights.Random(Config, CpuBackend.Instance, seed: 1);
        WeightsFile = Path.Combine(Dir, "tiny.safetensors");
        Weights.SaveSafetensors(WeightsFile);
        string sha = global::PromptAD.Files.FileHash.Sha256(WeightsFile);
        var dataset = AnomalyDataset.Open(Path.Combine(Dir, "data"), SyntheticDataset.Category);
        var pre = new ClipPreprocessor(Config.Vision.ImageSize);
        string Train(string name, IReadOnlyList<string> shots)
        {
            var set = new TrainingSet(SyntheticDataset.Category, "widget", ["damaged {}", "{} with spot"], [.. shots.Select(f => pre.Preprocess(f))],
                [.. shots.Select(f => Path.GetRelativePath(dataset.Root, f))], sha);
            using var m = Trainer.Train(Weights, set, new TrainOptions { Epochs = 2 });
            string path = Path.Combine(Dir, "models", name + ".safetensors");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            m.Save(path);
            return path;
        }
        ModelA = Train("a", dataset.TrainFiles.Take(2).ToList());
        ModelB = Train("b", dataset.TrainFiles.Skip(2).Take(2).ToList());
        Images = [.. dataset.TestSamples.Select(s => s.ImagePath)];
        using var a = PromptAdModel.Load(ModelA);
        using var b = PromptAdModel.Load(ModelB);
        using var da = new Detector(Weights, a, Size, batchSize: 1);
        using var db = new Detector(Weights, b, Size, batchSize: 1);
        ScoresA = [.. Images.Select(f => da.ScoreImages([pre.Preprocess(f)])[0].Score)];
        ScoresB = [.. Images.Select(f => db.ScoreImages([pre.Preprocess(f)])[0].Score)];
    }

    public string Dir { get; }
    public ClipConfig Config { get; }
    public ClipWeights Weights { get; }
    public string WeightsFile { get; }
    public string ModelA { get; }
    public string ModelB { get; }
    public IReadOnlyList<string> Images { get; }
    public IReadOnlyList<float> ScoresA { get; }
    public IReadOnlyList<float> ScoresB { get; }

    public Dictionary<string, PromptAdModel> LoadModels(bool both = true)
    {
        var d = new Dictionary<string, PromptAdModel>(StringComparer.Ordinal) { ["a"] = PromptAdModel.Load(ModelA) };
        if (both) d["b"] = PromptAdModel.Load(ModelB);
        return d;
    }

    public void Dispose()
    {
        Weights.Dispose();
        Directory.Delete(Dir, recursive: true);
    }
}
