using PromptAD.Model;


namespace PromptAD.Tests.Training;

/// <summary>
/// SPEC §5.1: the authors pair learnable-anomaly row r with c_(r mod n_pro) and a_(r mod n_pro_ab); that equals the
/// full product we train only for coprime sizes, and training says so otherwise. The counts are checked against the
/// authors' rule enumerated here.
/// </summary>
public sealed class PairingNoticeTests
{
    private static int AuthorsDistinctPairs(int nPro, int nProAb) =>
        Enumerable.Range(0, nPro * nProAb).Select(r => (r % nPro, r % nProAb)).Distinct().Count();

    [Theory]
    [InlineData(3, 1, 4)] // the defaults
    [InlineData(1, 1, 1)]
    [InlineData(5, 3, 7)]
    public void CoprimeSizes_NeedNoNotice(int image, int pixel, int ab)
    {
        Assert.Equal(image * ab, AuthorsDistinctPairs(image, ab)); // the authors' rule is the full product here
        Assert.Null(new TrainOptions { NProImage = image, NProPixel = pixel, NProAb = ab }.PairingNotice());
    }

    [Fact]
    public void SharedFactor_NamesTheHeadAndTheAuthorsPairCount()
    {
        string? notice = new TrainOptions { NProImage = 2, NProPixel = 1, NProAb = 4 }.PairingNotice();
        Assert.NotNull(notice);
        Assert.Contains("image head n_pro 2 and n_pro_ab 4", notice);
        Assert.DoesNotContain("pixel head", notice);
        Assert.Contains($"only {AuthorsDistinctPairs(2, 4)} of the 8 pairs, each 2 times", notice);

        notice = new TrainOptions { NProImage = 6, NProPixel = 4, NProAb = 4 }.PairingNotice()!;
        Assert.Contains($"only {AuthorsDistinctPairs(6, 4)} of the 24 pairs, each 2 times", notice);
        Assert.Contains($"pixel head n_pro 4 and n_pro_ab 4 are not coprime: the authors' code (row r pairs c_(r mod 4) with a_(r mod 4)) would use only {AuthorsDistinctPairs(4, 4)} of the 16 pairs, each 4 times", notice);
    }
}
