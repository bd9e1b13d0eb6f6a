using PromptAD.Scoring;

namespace PromptAD.Tests.Scoring;

/// <summary>The scorer's map pool hands back what it was given, only at the length asked for.</summary>
public class PixelMapPoolTests
{
    [Fact]
    public void AReturnedMap_IsRentedAgain_AtItsLengthOnly()
    {
        const int length = 123_457; // no scorer's map size: nothing else hands these back
        var map = PixelMapPool.Rent(length);
        Assert.Equal(length, map.Length);
        PixelMapPool.Return(map);
        Assert.Same(map, PixelMapPool.Rent(length));

        PixelMapPool.Return(map);
        var other = PixelMapPool.Rent(length + 1); // another length: a map of its own
        Assert.Equal(length + 1, other.Length);
        Assert.Same(map, PixelMapPool.Rent(length));
        Assert.NotSame(map, PixelMapPool.Rent(length)); // handed out once only
    }
}
