using PromptAD.Data;
using PromptAD.Jobs;

namespace PromptAD.Tests.Jobs;

/// <summary>Capped test sets (bench --test-images) keep both classes, so the metrics stay defined.</summary>
public sealed class SubsampleTests
{
    private static List<TestSample> Bottle() =>
        [.. Enumerable.Range(0, 63).Select(i => new TestSample($"broken/{i:000}.png", "broken", true, $"m{i}.png")),
         .. Enumerable.Range(0, 20).Select(i => new TestSample($"good/{i:000}.png", "good", false, null))];

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(10)]
    [InlineData(82)]
    public void KeepsBothClassesInProportion(int max)
    {
        var picked = TestRunner.Subsample(Bottle(), max);
        Assert.Equal(max, picked.Count);
        Assert.Contains(picked, s => s.IsAnomalous);
        Assert.Contains(picked, s => !s.IsAnomalous);
        Assert.Equal(picked.Count, picked.Distinct().Count());
        int normal = picked.Count(s => !s.IsAnomalous);
        Assert.InRange(normal, 1, Math.Max(1, (int)Math.Ceiling(max * 20.0 / 83) + 1));
    }

    [Fact]
    public void NoCapKeepsEverythingInOrder()
    {
        var all = Bottle();
        Assert.Equal(all, TestRunner.Subsample(all, int.MaxValue));
    }
}
