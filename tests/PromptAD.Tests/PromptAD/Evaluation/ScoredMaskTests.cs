using PromptAD.Data;
using PromptAD.Evaluation;

namespace PromptAD.Tests.Evaluation;

/// <summary>A mask's regions as the pixel metrics weigh them: 8-connected components and their areas, counted by hand.</summary>
public class ScoredMaskTests
{
    [Fact]
    public void Areas_CountEachRegionsPixels_AndTheNormalOnes()
    {
        // 5×4: a 3-pixel region (8-connected through a corner), a 2-pixel region, 15 normal pixels.
        var mask = new BinaryMask(5, 4,
        [
            1, 0, 0, 0, 1,
            0, 1, 0, 0, 1,
            0, 0, 1, 0, 0,
            0, 0, 0, 0, 0,
        ]);
        var scored = ScoredMask.Of(mask, 5, 4);
        Assert.Equal(2, scored.Regions);
        Assert.Equal(15, scored.Areas[0]);
        Assert.Equal(new long[] { 2, 3 }, scored.Areas[1..].Order().ToArray());
        Assert.Equal(3, scored.Areas[scored.Labels![0]]);
        Assert.Equal(2, scored.Areas[scored.Labels[4]]);
    }

    [Fact]
    public void AnAllNormalMask_HasNoRegions_AndEveryPixelNormal()
    {
        var scored = ScoredMask.Of(BinaryMask.Empty(3, 2), 3, 2);
        Assert.Null(scored.Labels);
        Assert.Equal(new long[] { 6 }, scored.Areas);
    }
}
