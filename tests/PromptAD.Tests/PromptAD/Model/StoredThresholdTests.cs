using PromptAD.Calibration;
using PromptAD.Model;

namespace PromptAD.Tests.Model;

/// <summary>The threshold's metadata keys: exact round trip, absent for an uncalibrated model, clear errors when broken.</summary>
public sealed class StoredThresholdTests
{
    private static ModelMetadata Meta(StoredThreshold? t) => new()
    {
        Backbone = "tiny-test", Category = "widget", ClassName = "widget", Shots = 2, Options = new PromptAD.Model.TrainOptions(),
        LogitScaleValue = 100, Threshold = t,
    };

    [Fact]
    public void RoundTrips_Exactly()
    {
        var t = new StoredThreshold(MathF.BitIncrement(0.7312f), 0.01, 63, StoredThreshold.Methods.HeldOut, 63, 400);
        var back = ModelMetadata.Parse(Meta(t).ToDictionary(), "m.safetensors");
        Assert.Equal(t, back.Threshold);
    }

    [Fact]
    public void Uncalibrated_HasNoThresholdKeys()
    {
        var d = Meta(null).ToDictionary();
        Assert.DoesNotContain(d.Keys, k => k.StartsWith("threshold", StringComparison.Ordinal));
        Assert.Null(ModelMetadata.Parse(d, "m.safetensors").Threshold);
    }

    [Fact]
    public void BrokenKey_NamesFileAndKey()
    {
        var d = Meta(new StoredThreshold(0.5f, 0.01, 5, StoredThreshold.Methods.LeaveOneOut, 5, 48)).ToDictionary();
        d["threshold_images"] = "many";
        var e = Assert.Throws<ModelFileException>(() => ModelMetadata.Parse(d, "m.safetensors"));
        Assert.Contains("m.safetensors", e.Message);
        Assert.Contains("threshold_images", e.Message);
        d.Remove("threshold_images");
        e = Assert.Throws<ModelFileException>(() => ModelMetadata.Parse(d, "m.safetensors"));
        Assert.Contains("threshold_images", e.Message);
    }
}
