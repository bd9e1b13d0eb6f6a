using PromptAD.Data;

namespace PromptAD.Tests.Adversarial;

/// <summary>
/// A writer killed between writing its temporary file and renaming it leaves <c>&lt;out&gt;.tmp-&lt;hex&gt;</c>; the
/// next successful write of the same output removes it (as `run` does for its folder), for train, calibrate and encode.
/// </summary>
[Collection("Console")]
public sealed class StaleTempFilesTests : IDisposable
{
    private readonly Hostile _h = new();

    public void Dispose() => _h.Dispose();

    /// <summary>What a writer killed at the rename leaves: a complete-looking temporary file beside the output, no longer written.</summary>
    private static string LeftBehind(string output)
    {
        string temp = output + ".tmp-0123456789abcdef";
        File.WriteAllBytes(temp, new byte[4096]);
        File.SetLastWriteTimeUtc(temp, DateTime.UtcNow.AddMinutes(-5));
        return temp;
    }

    [Fact]
    public void Train_Calibrate_Encode_RemoveTheTemporaryFileADeadWriterLeft()
    {
        string model = _h.P("model.safetensors");
        string trainTemp = LeftBehind(model);
        var r = Hostile.Cli(_h.TrainArgs(model));
        Assert.True(r.Code == 0, r.Err);
        Assert.False(File.Exists(trainTemp), "train left a dead writer's temporary file");

        string calibrated = _h.P("calibrated.safetensors");
        string calibrateTemp = LeftBehind(calibrated);
        r = Hostile.Cli("calibrate", "--model", model, "--weights", _h.Weights, "--good", Path.Combine(_h.Category, "test", AnomalyDataset.GoodFolder),
            "--fpr", "0.4", "--size", "32", "--out", calibrated);
        Assert.True(r.Code == 0, r.Err);
        Assert.False(File.Exists(calibrateTemp), "calibrate left a dead writer's temporary file");

        string features = _h.P("features.safetensors");
        string encodeTemp = LeftBehind(features);
        r = Hostile.Cli("encode", "--weights", _h.Weights, "--backbone", "tiny-test", "--images", Path.Combine(_h.Category, "test", AnomalyDataset.GoodFolder), "--out", features);
        Assert.True(r.Code == 0, r.Err);
        Assert.False(File.Exists(encodeTemp), "encode left a dead writer's temporary file");
        Assert.Equal(["calibrated.safetensors", "features.safetensors", "model.safetensors"],
            Directory.GetFiles(_h.Dir, "*.safetensors*").Select(Path.GetFileName).Where(n => n != "tiny.safetensors").Order(StringComparer.Ordinal));
    }
}
