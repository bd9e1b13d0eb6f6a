using PromptAD.Clip;
using PromptAD.Model;
using PromptAD.Pipeline;
using PromptAD.Tensors.Cpu;
using PromptAD.Tensors.SafeTensors;
using PromptAD.Tests.Clip;
using PromptAD.Tests.Pipeline;
using PromptAD.Training;

namespace PromptAD.Tests.Model;

/// <summary>The model file: exact round trip, and clear errors for files that cannot be used.</summary>
public sealed class ModelFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("promptad-model-").FullName;
    private readonly ClipConfig _tiny = ClipConfigs.Load("tiny-test");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void SaveLoad_RoundTripsEveryTensorAndTheMetadata()
    {
        using var model = TestModels.Create(_tiny, shots: 2);
        string path = Path.Combine(_dir, "m.safetensors");
        model.Save(path);
        using var back = PromptAdModel.Load(path);
        Assert.Equal(path, back.SourcePath);
        ModelAssert.SameTensors(model, back);
        var m = model.Metadata;
        var b = back.Metadata;
        Assert.Equal(m.Options, b.Options);
        Assert.Equal(m.ShotFiles, b.ShotFiles);
        Assert.Equal(m.AnomalyStates, b.AnomalyStates);
        Assert.Equal(m.ShotSha256, b.ShotSha256);
        Assert.Equal(m with { ShotFiles = b.ShotFiles, AnomalyStates = b.AnomalyStates, ShotSha256 = b.ShotSha256, CreatedUtc = b.CreatedUtc }, b);
        Assert.Equal(m.CreatedUtc.ToUnixTimeMilliseconds(), b.CreatedUtc.ToUnixTimeMilliseconds());
        back.CheckCompatible(_tiny, "AB12");
    }

    [Fact]
    public void MidFeatureMode_ClassWord_AndStates_RoundTrip()
    {
        using var plain = TestModels.Create(_tiny, shots: 1);
        string path = Path.Combine(_dir, "plain.safetensors");
        plain.Save(path);
        using (var back = PromptAdModel.Load(path))
        {
            Assert.Equal(MidFeatureMode.AsPublished, back.Metadata.Options.MidFeatures); // the default
            Assert.False(back.Metadata.MidFeaturesAssumed);
        }

        var meta = plain.Metadata with
        {
            ClassName = "magnetic tile", AnomalyStates = ["damaged {}", "{} with crack"],
            Options = plain.Metadata.Options with { MidFeatures = MidFeatureMode.BlockOutput },
        };
        using var model = new PromptAdModel(meta, plain.Image, plain.Pixel, plain.ImagePrototypes, plain.PixelPrototypes, plain.Mid1, plain.Mid2);
        model.Save(path);
        using (var f = SafeTensorsFile.Open(path))
        {
            Assert.Equal("block-output", f.Metadata["mid_features"]);
            Assert.Equal("[\"damaged {}\",\"{} with crack\"]", f.Metadata["anomaly_states"]);
            Assert.Equal("magnetic tile", f.Metadata["class_name"]);
        }
        using var loaded = PromptAdModel.Load(path);
        Assert.Equal(MidFeatureMode.BlockOutput, loaded.Metadata.Options.MidFeatures);
        Assert.Equal("magnetic tile", loaded.Metadata.ClassName);
        Assert.Equal(["damaged {}", "{} with crack"], loaded.Metadata.AnomalyStates);
    }

    /// <summary>Files written before the mode was recorded hold plain block outputs: they are read that way, flagged.</summary>
    [Fact]
    public void ModelWithoutMidFeatures_IsReadAsBlockOutput()
    {
        string path = Rewrite(e => e, meta => { meta.Remove("mid_features"); meta.Remove("anomaly_states"); });
        using var m = PromptAdModel.Load(path);
        Assert.Equal(MidFeatureMode.BlockOutput, m.Metadata.Options.MidFeatures);
        Assert.True(m.Metadata.MidFeaturesAssumed);
        Assert.Empty(m.Metadata.AnomalyStates);
    }

    [Fact]
    public void PixelMargin_RoundTrips_AsPublishedByDefault()
    {
        using var plain = TestModels.Create(_tiny, shots: 1);
        Assert.Equal(PixelMarginMode.AsPublished, plain.Metadata.Options.PixelMargin);
        string path = Path.Combine(_dir, "margin.safetensors");
        plain.Save(path);
        using (var f = SafeTensorsFile.Open(path)) Assert.Equal("as-published", f.Metadata["pixel_margin"]);
        var meta = plain.Metadata with { Options = plain.Metadata.Options with { PixelMargin = PixelMarginMode.PerPatch } };
        using var model = new PromptAdModel(meta, plain.Image, plain.Pixel, plain.ImagePrototypes, plain.PixelPrototypes, plain.Mid1, plain.Mid2);
        model.Save(path);
        using (var f = SafeTensorsFile.Open(path)) Assert.Equal("per-patch", f.Metadata["pixel_margin"]);
        using var back = PromptAdModel.Load(path);
        Assert.Equal(PixelMarginMode.PerPatch, back.Metadata.Options.PixelMargin);
        Assert.False(back.Metadata.PixelMarginAssumed);
    }

    /// <summary>Files written before the margin was recorded were trained per patch: read that way, flagged.</summary>
    [Fact]
    public void ModelWithoutPixelMargin_IsReadAsPerPatch()
    {
        string path = Rewrite(e => e, meta => meta.Remove("pixel_margin"));
        using var m = PromptAdModel.Load(path);
        Assert.Equal(PixelMarginMode.PerPatch, m.Metadata.Options.PixelMargin);
        Assert.True(m.Metadata.PixelMarginAssumed);
    }

    [Fact]
    public void UnknownPixelMargin_NamesTheKey()
    {
        string path = Rewrite(e => e, meta => meta["pixel_margin"] = "per-image");
        var ex = Assert.Throws<ModelFileException>(() => PromptAdModel.Load(path));
        Assert.Equal("pixel_margin", ex.Item);
        Assert.Contains("'per-image'", ex.Message);
    }

    [Fact]
    public void UnknownMidFeatureMode_NamesTheKey()
    {
        string path = Rewrite(e => e, meta => meta["mid_features"] = "pre-mlp");
        var ex = Assert.Throws<ModelFileException>(() => PromptAdModel.Load(path));
        Assert.Equal("mid_features", ex.Item);
        Assert.Contains("'pre-mlp'", ex.Message);
    }

    [Fact]
    public void WrongBackbone_IsRefusedByNameWithBothNames()
    {
        using var model = TestModels.Create(_tiny, shots: 1);
        string path = Path.Combine(_dir, "m.safetensors");
        model.Save(path);
        using var back = PromptAdModel.Load(path);
        var other = ClipConfigs.Load("tiny-test-quickgelu");
        var ex = Assert.Throws<ModelFileException>(() => back.CheckCompatible(other));
        Assert.Contains("'tiny-test'", ex.Message);
        Assert.Contains("'tiny-test-quickgelu'", ex.Message);
        Assert.Contains(path, ex.Message);

        using var weights = ClipWeights.Random(other, CpuBackend.Instance, 1);
        Assert.Throws<ModelFileException>(() => new Detector(weights, back));
        Assert.Throws<ModelFileException>(() => back.CheckCompatible(_tiny, "ffff"));
    }

    [Fact]
    public void MissingTensor_NamesFileAndTensor()
    {
        string path = Rewrite(entries => entries.Where(e => e.Name != "bank.mid2"), meta => { });
        var ex = Assert.Throws<ModelFileException>(() => PromptAdModel.Load(path));
        Assert.Equal("bank.mid2", ex.Item);
        Assert.Contains(path, ex.Message);
    }

    [Fact]
    public void WrongShape_NamesTensor()
    {
        string path = Rewrite(entries => entries.Select(e => e.Name == "image.ctx" ? e with { Shape = [e.Shape[0] / 2, e.Shape[1] * 2] } : e), meta => { });
        var ex = Assert.Throws<ModelFileException>(() => PromptAdModel.Load(path));
        Assert.Equal("image.ctx", ex.Item);
    }

    [Fact]
    public void WrongFormatVersion_IsRefused()
    {
        string path = Rewrite(e => e, meta => meta["format_version"] = "2");
        var ex = Assert.Throws<ModelFileException>(() => PromptAdModel.Load(path));
        Assert.Equal("format_version", ex.Item);
        Assert.Contains("version 2", ex.Message);
    }

    [Fact]
    public void NotAModelFile_IsRefused()
    {
        var ex = Assert.Throws<ModelFileException>(() => PromptAdModel.Load(Path.Combine(ClipGolden.SmallDirectory, "tiny-test.weights.safetensors")));
        Assert.Contains("not a PromptAD model", ex.Message);
        Assert.Throws<ModelFileException>(() => PromptAdModel.Load(Path.Combine(_dir, "absent.safetensors")));
    }

    /// <summary>A valid model file re-written with its tensors and metadata edited.</summary>
    private string Rewrite(Func<IEnumerable<SafeTensorsWriter.Entry>, IEnumerable<SafeTensorsWriter.Entry>> tensors, Action<Dictionary<string, string>> metadata)
    {
        using var model = TestModels.Create(_tiny, shots: 1);
        string good = Path.Combine(_dir, "good.safetensors");
        model.Save(good);
        List<SafeTensorsWriter.Entry> entries;
        Dictionary<string, string> meta;
        using (var f = SafeTensorsFile.Open(good))
        {
            entries = [.. f.Tensors.Select(t => new SafeTensorsWriter.Entry(t.Name, t.Shape, f.ReadFloat32(t.Name)))];
            meta = new Dictionary<string, string>(f.Metadata);
        }
        metadata(meta);
        string bad = Path.Combine(_dir, "bad.safetensors");
        SafeTensorsWriter.Write(bad, tensors(entries), meta);
        return bad;
    }
}

/// <summary>Training is a deterministic function of its inputs and seed, and reports every epoch.</summary>
public class TrainerTests
{
    [Fact]
    public void SameSeed_SameModel_AndProgressPerEpoch()
    {
        var config = ClipConfigs.Load("tiny-test");
        using var weights = ClipWeights.Random(config, CpuBackend.Instance, 3);
        var rng = new Random(5);
        var shots = Enumerable.Range(0, 2).Select(_ => Enumerable.Range(0, 3 * 32 * 32).Select(_ => (float)rng.NextDouble()).ToArray()).ToList();
        var set = new TrainingSet("bottle", "bottle", PipelineParityTests.States, shots, ["a", "b"]);
        var options = new TrainOptions { Epochs = 2, Seed = 9, LogitScale = LogitScaleMode.Exp };
        var log = new ListProgress();
        using var a = Trainer.Train(weights, set, options, progress: log, cancellationToken: TestContext.Current.CancellationToken);
        using var b = Trainer.Train(weights, set, options, cancellationToken: TestContext.Current.CancellationToken);
        ModelAssert.SameTensors(a, b);
        Assert.Equal(4, log.Items.Count);
        Assert.Equal([1, 2, 1, 2], log.Items.Select(p => p.Epoch));
        Assert.Equal(0.002f, log.Items[0].LearningRate);
        Assert.Equal(MathF.Exp(MathF.Log(1 / 0.07f)), a.Metadata.LogitScaleValue, 4);
        using var c = Trainer.Train(weights, set, options with { Seed = 10 }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.NotEqual(a.Image.Ctx, c.Image.Ctx);
        Assert.Equal("bottle", a.Metadata.ClassName); // what the prompts were built with, recorded in the model
        Assert.Equal(PipelineParityTests.States, a.Metadata.AnomalyStates);
        Assert.Equal(MidFeatureMode.AsPublished, a.Metadata.Options.MidFeatures);
    }

    /// <summary>The memory banks hold the mid features of the mode asked for: the encoder's, in that mode.</summary>
    [Fact]
    public void MemoryBanks_FollowTheMidFeatureMode()
    {
        var config = ClipConfigs.Load("tiny-test");
        using var weights = ClipWeights.Random(config, CpuBackend.Instance, 3);
        var rng = new Random(6);
        var shot = Enumerable.Range(0, 3 * 32 * 32).Select(_ => (float)rng.NextDouble()).ToArray();
        var set = new TrainingSet("bottle", "bottle", PipelineParityTests.States, [shot], ["a"]);
        foreach (var mode in new[] { MidFeatureMode.AsPublished, MidFeatureMode.BlockOutput })
        {
            using var model = Trainer.Train(weights, set, new TrainOptions { Epochs = 0, MidFeatures = mode }, cancellationToken: TestContext.Current.CancellationToken);
            using var features = new ClipImageEncoder(weights, mode).EncodeNormalized(shot, 1);
            using var other = new ClipImageEncoder(weights, mode == MidFeatureMode.AsPublished ? MidFeatureMode.BlockOutput : MidFeatureMode.AsPublished).EncodeNormalized(shot, 1);
            Assert.Equal(mode, model.Metadata.Options.MidFeatures);
            Assert.Equal(features.Mid1.ToArray(), model.Mid1.Data);
            Assert.Equal(features.Mid2.ToArray(), model.Mid2.Data);
            Assert.NotEqual(other.Mid1.ToArray(), model.Mid1.Data);
        }
    }
}
