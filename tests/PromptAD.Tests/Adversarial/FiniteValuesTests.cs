using PromptAD.Clip.IO;

namespace PromptAD.Tests.Adversarial;

/// <summary>The load-time NaN/Inf scan finds a bad value at any position (each vector lane, each accumulator, the tail).</summary>
public sealed class FiniteValuesTests
{
    [Fact]
    public void FindsTheFirstNonFiniteValueAnywhere()
    {
        var rng = new Random(3);
        foreach (int n in new[] { 0, 1, 7, 8, 31, 32, 33, 64, 127, 1000 })
        {
            var data = new float[n];
            for (int i = 0; i < n; i++) data[i] = (float)(rng.NextDouble() * 2e38 - 1e38);
            Assert.Equal(-1, FiniteValues.FirstNonFinite(data));
            Assert.Null(FiniteValues.Problem(data));
            for (int at = 0; at < n; at++)
                foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
                {
                    float keep = data[at];
                    data[at] = bad;
                    Assert.Equal(at, FiniteValues.FirstNonFinite(data));
                    data[at] = keep;
                }
        }
        Assert.Equal("holds -Inf at index 2 (every value must be a finite number)", FiniteValues.Problem([0f, -0f, float.NegativeInfinity, float.NaN]));
        Assert.Equal(-1, FiniteValues.FirstNonFinite([float.MaxValue, -float.MaxValue, float.Epsilon, -0f]));
    }
}
