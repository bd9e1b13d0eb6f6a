using PromptAD.Calibration;
using PromptAD.Model;

namespace PromptAD.Tests.Calibration;

/// <summary>The one threshold resolution predict and serve share, and the one decision rule.</summary>
public sealed class DecisionThresholdTests
{
    private static readonly StoredThreshold At240 = new(0.25f, 0.05, 40, StoredThreshold.Methods.HeldOut, 39, 240);

    [Fact]
    public void AGivenThreshold_WinsOverTheStoredOne_AtAnySize()
    {
        var t = DecisionThreshold.Resolve(0.7f, At240, 400, "model 'm'")!;
        Assert.Equal(0.7f, t.Value);
        Assert.Null(t.Calibrated);
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void ANonFiniteGivenThreshold_IsRefused(float given)
    {
        var e = Assert.Throws<ArgumentException>(() => DecisionThreshold.Resolve(given, At240, 240, "model 'm'"));
        Assert.Contains("finite", e.Message);
    }

    [Fact]
    public void TheStoredThreshold_DecidesAtTheSizeItWasMeasuredAt()
    {
        var t = DecisionThreshold.Resolve(null, At240, 240, "model 'm'")!;
        Assert.Equal(0.25f, t.Value);
        Assert.Same(At240, t.Calibrated);
        Assert.Null(DecisionThreshold.Resolve(null, null, 400, "model 'm'")); // never calibrated: no decision
    }

    [Fact]
    public void TheStoredThreshold_AtAnotherSize_IsRefusedNamingBothSizes()
    {
        var e = Assert.Throws<ThresholdSizeException>(() => DecisionThreshold.Resolve(null, At240, 400, "model 'bottle.safetensors'"));
        Assert.Equal((240, 400), (e.CalibratedSize, e.MapSize));
        Assert.Contains("model 'bottle.safetensors'", e.Message);
        Assert.Contains("240 px", e.Message);
        Assert.Contains("400 px", e.Message);
    }

    [Fact]
    public void AnomalousAtOrAboveTheThreshold()
    {
        var t = new DecisionThreshold(0.5f, null);
        Assert.True(t.IsAnomalous(0.5f));
        Assert.True(t.IsAnomalous(0.6f));
        Assert.False(t.IsAnomalous(MathF.BitDecrement(0.5f)));
        Assert.False(t.IsAnomalous(float.NaN));
    }
}
