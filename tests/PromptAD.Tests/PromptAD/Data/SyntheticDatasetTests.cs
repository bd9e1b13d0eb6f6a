using PromptAD.Clip.Imaging;
using PromptAD.Data;

namespace PromptAD.Tests.Data;

public sealed class SyntheticDatasetTests : IDisposable
{
    private readonly string temp = Directory.CreateTempSubdirectory("promptad-synth-").FullName;

    public void Dispose() => Directory.Delete(temp, recursive: true);

    [Fact]
    public void OpensAsMvtecLayoutWithMasksOnTheScratch()
    {
        string dir = SyntheticDataset.Generate(Path.Combine(temp, "a"), seed: 7);
        Assert.Equal(Path.Combine(temp, "a", "widget"), dir);
        AnomalyDataset d = AnomalyDataset.Open(Path.Combine(temp, "a"), "widget");
        Assert.Equal(8, d.TrainFiles.Count);
        Assert.Equal(4, d.TestSamples.Count(s => s.DefectType == "good" && !s.IsAnomalous && s.MaskPath is null));
        Assert.Equal(4, d.TestSamples.Count(s => s.DefectType == "scratch" && s.IsAnomalous));
        foreach (TestSample s in d.TestSamples.Where(s => s.IsAnomalous))
        {
            Assert.EndsWith("_mask.png", s.MaskPath);
            BinaryMask mask = MaskLoader.Load(s.MaskPath!);
            Assert.True(mask.Any());
            RgbImage image = ImageLoader.Load(s.ImagePath);
            Assert.Equal(SyntheticDataset.DefaultSize, image.Width);

            // Every mask pixel is the dark scratch colour in the image.
            for (int p = 0; p < mask.Pixels.Length; p++)
            {
                if (mask.Pixels[p] == 1)
                {
                    Assert.Equal(35, image.Pixels[3 * p]);
                }
            }
        }
    }

    [Fact]
    public void DeterministicPerSeed()
    {
        SyntheticDataset.Generate(Path.Combine(temp, "a"), seed: 3);
        SyntheticDataset.Generate(Path.Combine(temp, "b"), seed: 3);
        SyntheticDataset.Generate(Path.Combine(temp, "c"), seed: 4);
        string[] files = [.. Directory.GetFiles(Path.Combine(temp, "a"), "*.png", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(Path.Combine(temp, "a"), f)).Order(StringComparer.Ordinal)];
        Assert.Equal(20, files.Length); // 8 + 4 + 4 images, 4 masks
        foreach (string f in files)
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(temp, "a", f)), File.ReadAllBytes(Path.Combine(temp, "b", f)));
        }

        Assert.NotEqual(File.ReadAllBytes(Path.Combine(temp, "a", files[0])), File.ReadAllBytes(Path.Combine(temp, "c", files[0])));
    }
}
