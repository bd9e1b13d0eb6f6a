using PromptAD.Model;
using PromptAD.Tensors.SafeTensors;

namespace PromptAD.Tests.Adversarial;

/// <summary>
/// #12 item 7 and deliverable 4: model files and weights are checked for meaning, not only format. A NaN or ±Inf in
/// any tensor, a wrong shape, or missing/contradictory metadata is a <see cref="ModelFileException"/> naming the file
/// and the tensor or key; the CLI turns it into exit 1 before any image is scored, and train --init refuses it.
/// </summary>
[Collection("Console")]
public sealed class HostileModelTests : IDisposable
{
    private static readonly string[] ModelTensors =
        ["image.ctx", "image.ctx_ab", "pixel.ctx", "pixel.ctx_ab", "image.prototypes", "pixel.prototypes", "bank.mid1", "bank.mid2"];

    private readonly Hostile _h = new();
    private readonly string _model;

    public HostileModelTests() => _model = _h.TrainModel();

    public void Dispose() => _h.Dispose();

    /// <summary>Copies a safetensors file, letting <paramref name="change"/> edit tensors and metadata.</summary>
    private static string Rewrite(string from, string to, Action<List<SafeTensorsWriter.Entry>, Dictionary<string, string>> change)
    {
        List<SafeTensorsWriter.Entry> entries;
        Dictionary<string, string> meta;
        using (var f = SafeTensorsFile.Open(from))
        {
            entries = [.. f.Tensors.Select(t => new SafeTensorsWriter.Entry(t.Name, f.GetInfo(t.Name).Shape, f.ReadFloat32(t.Name)))];
            meta = new Dictionary<string, string>(f.Metadata);
        }
        change(entries, meta);
        SafeTensorsWriter.Write(to, entries, meta);
        return to;
    }

    private static void Poison(List<SafeTensorsWriter.Entry> entries, string name, float value, int index)
    {
        int i = entries.FindIndex(e => e.Name == name);
        var data = (float[])entries[i].Data.ToArray().Clone();
        data[index % data.Length] = value;
        entries[i] = new SafeTensorsWriter.Entry(name, entries[i].Shape, data);
    }

    [Fact]
    public void NonFiniteValue_InAnyTensor_IsRefusedNamingIt()
    {
        var rng = new Random(12);
        foreach (string name in ModelTensors)
            foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
            {
                string path = Rewrite(_model, _h.P("bad.safetensors"), (e, _) => Poison(e, name, bad, rng.Next(1 << 20)));
                var ex = Assert.Throws<ModelFileException>(() => PromptAdModel.Load(path));
                Assert.Equal(name, ex.Item);
                Assert.Contains(path, ex.Message);
                Assert.Contains(float.IsNaN(bad) ? "NaN" : bad > 0 ? "+Inf" : "-Inf", ex.Message);
            }
    }

    [Fact]
    public void NaNModel_InPredictTestAndTrainInit_IsExitOneNamingTheTensor_BeforeScoring()
    {
        string bad = Rewrite(_model, _h.P("nan.safetensors"), (e, _) => Poison(e, "image.prototypes", float.NaN, 3));
        string images = Path.Combine(_h.Category, "test", "good");
        var r = Hostile.Cli("predict", "--model", bad, "--weights", _h.Weights, images, "--size", "32", "--out", _h.P("p"));
        Assert.Equal(1, r.Code);
        Assert.Contains("image.prototypes", r.Err);
        Assert.False(File.Exists(_h.P("p", "scores.csv")));

        r = Hostile.Cli("test", "--model", bad, "--weights", _h.Weights, "--data", _h.Data, "--size", "32", "--out", _h.P("t"));
        Assert.Equal(1, r.Code);
        Assert.Contains(bad, r.Err);

        string badInit = Rewrite(_model, _h.P("nan-init.safetensors"), (e, _) => Poison(e, "pixel.ctx", float.NaN, 0));
        r = Hostile.Cli([.. _h.TrainArgs(_h.P("from-nan.safetensors")), "--init", badInit]);
        Assert.Equal(1, r.Code);
        Assert.Contains("pixel.ctx", r.Err);
        Assert.False(File.Exists(_h.P("from-nan.safetensors")));
    }

    [Fact]
    public void WrongShapes_AndWrongOrMissingMetadata_AreNamed()
    {
        var rng = new Random(5);
        foreach (string name in ModelTensors)
        {
            string path = Rewrite(_model, _h.P("shape.safetensors"), (e, _) =>
            {
                int i = e.FindIndex(x => x.Name == name);
                var data = e[i].Data.ToArray();
                int drop = 1 + rng.Next(3);
                // One row fewer (or a flattened shape): never a valid model.
                e[i] = drop == 1 ? new SafeTensorsWriter.Entry(name, [data.Length], data)
                    : new SafeTensorsWriter.Entry(name, [e[i].Shape[0] - 1, e[i].Shape[1]], data[..^e[i].Shape[1]]);
            });
            var ex = Assert.Throws<ModelFileException>(() => PromptAdModel.Load(path));
            Assert.Contains(name, ex.Message);
        }

        using var f = SafeTensorsFile.Open(_model);
        foreach (string key in f.Metadata.Keys)
        {
            string path = Rewrite(_model, _h.P("meta.safetensors"), (_, m) => m.Remove(key));
            // A missing key is named, or the model still loads when the key is optional; never another exception type.
            try { using var m = PromptAdModel.Load(path); }
            catch (ModelFileException ex) { Assert.Contains(key, ex.Message); }
        }

        foreach (string key in new[] { "logit_scale", "learning_rate", "margin", "align_weight" })
            foreach (string bad in new[] { "NaN", "Infinity", "-Infinity", "1e39" })
            {
                string path = Rewrite(_model, _h.P("meta-nan.safetensors"), (_, m) => m[key] = bad);
                Assert.Equal(key, Assert.Throws<ModelFileException>(() => PromptAdModel.Load(path)).Item);
            }

        string shots = Rewrite(_model, _h.P("shots.safetensors"), (_, m) => m["shots"] = "3");
        Assert.Contains("bank.mid1", Assert.Throws<ModelFileException>(() => PromptAdModel.Load(shots)).Message);
    }

    [Fact]
    public void NaNWeights_AreRefusedNamingTheTensor()
    {
        string bad = Rewrite(_h.Weights, _h.P("nan-weights.safetensors"), (e, _) => Poison(e, "visual.proj", float.PositiveInfinity, 7));
        var r = Hostile.Cli(_h.TrainArgs(_h.P("m.safetensors")) is var a ? [.. a[..2], bad, .. a[3..]] : a);
        Assert.Equal(1, r.Code);
        Assert.Contains("visual.proj", r.Err);
        Assert.Contains("+Inf", r.Err);
        Assert.False(File.Exists(_h.P("m.safetensors")));
    }
}
