using PromptAD.Heatmaps;


namespace PromptAD.Tests.Heatmaps;

/// <summary>predict names one heatmap per image; no two images may share (and overwrite) one file.</summary>
public sealed class HeatmapNamesTests
{
    [Fact]
    public void SameNameInTwoFoldersGetsASuffix() =>
        Assert.Equal(["000.png", "000_2.png", "001.png"], HeatmapNames.For(["a/000.png", "b/000.png", "a/001.jpg"]));

    [Fact]
    public void ASuffixNeverTakesAnImagesOwnName() =>
        Assert.Equal(["a.png", "a_2.png", "a_2_2.png"], HeatmapNames.For(["x/a.png", "y/a.png", "x/a_2.png"]));

    [Fact]
    public void NamesDifferingOnlyInCaseStayApart() =>
        Assert.Equal(["A.png", "a_2.png"], HeatmapNames.For(["x/A.png", "y/a.png"]));
}
