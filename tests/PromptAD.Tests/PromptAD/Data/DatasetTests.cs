using PromptAD.Data;
using PromptAD.Tests.Clip;

namespace PromptAD.Tests.Data;

public sealed class DatasetTests : IDisposable
{
    private readonly string temp = Directory.CreateTempSubdirectory("promptad-data-").FullName;

    private static string SharedData => Path.Combine(ClipTestPaths.Shared, "data");

    public void Dispose() => Directory.Delete(temp, recursive: true);

    [Fact]
    public void BottleSubset()
    {
        AnomalyDataset d = AnomalyDataset.Open(Path.Combine(SharedData, "mvtec"), "bottle");
        Assert.Equal(64, d.TrainFiles.Count);
        Assert.Equal("000.png", Path.GetFileName(d.TrainFiles[0]));
        Assert.Equal("131.png", Path.GetFileName(d.TrainFiles[62]));
        Assert.Equal(83, d.TestSamples.Count);
        Assert.Equal(20, d.TestSamples.Count(s => !s.IsAnomalous));
        Assert.All(d.TestSamples.Where(s => s.IsAnomalous), s => Assert.EndsWith("_mask.png", s.MaskPath));
        Assert.All(d.TestSamples.Where(s => !s.IsAnomalous), s => Assert.Null(s.MaskPath));
        Assert.Equal("broken_large", d.TestSamples[0].DefectType);

        BinaryMask mask = MaskLoader.Load(d.TestSamples[0].MaskPath!, 400, 400);
        Assert.Equal(400, mask.Width);
        Assert.True(mask.Any());
    }

    [Fact]
    public void BottleShotsOutOfRangeAreReported()
    {
        AnomalyDataset d = AnomalyDataset.Open(Path.Combine(SharedData, "mvtec"), "bottle");
        string shots = Path.Combine(SharedData, "fewshot", "mvtec", "bottle.txt");
        var e = Assert.Throws<DatasetException>(() => FewShot.Select(d.TrainFiles, 1, shots));
        Assert.Contains(shots, e.Message);
        Assert.Contains("k = 1", e.Message);
        Assert.Contains("index 131", e.Message);
        Assert.Contains("64 images", e.Message);
        // k = 2 lists 101 and 048: 101 is out of range too, 048 alone would be silently wrong, so the whole set fails.
        Assert.Throws<DatasetException>(() => FewShot.Select(d.TrainFiles, 2, shots));
        Assert.Equal([131], FewShot.Parse(shots)[1]);
        Assert.Equal([29, 45, 192, 127], FewShot.Parse(shots)[4]);
    }

    [Fact]
    public void HazelnutToyJpgWithPlainMaskNames()
    {
        AnomalyDataset d = AnomalyDataset.Open(SharedData, "hazelnut_toy");
        Assert.Equal(28, d.TrainFiles.Count);
        Assert.All(d.TrainFiles, f => Assert.EndsWith(".jpg", f));
        Assert.Equal(17, d.TestSamples.Count(s => s.IsAnomalous));
        Assert.Equal(6, d.TestSamples.Count(s => !s.IsAnomalous));
        TestSample first = d.TestSamples[0];
        Assert.Equal("colour", first.DefectType);
        Assert.Equal(Path.GetFileNameWithoutExtension(first.ImagePath) + ".png", Path.GetFileName(first.MaskPath));
    }

    [Fact]
    public void MissingCategoryListsExisting()
    {
        Make("a/train/good/0.png", "b/train/good/0.png");
        var e = Assert.Throws<DatasetException>(() => AnomalyDataset.Open(temp, "zzz"));
        Assert.Contains(Path.Combine(temp, "zzz"), e.Message);
        Assert.Contains("a, b", e.Message);
        Assert.Throws<DatasetException>(() => AnomalyDataset.Open(Path.Combine(temp, "nope"), "a"));
    }

    [Fact]
    public void LayoutErrorsNameThePath()
    {
        Make("c/train/good/readme.txt");
        var e = Assert.Throws<DatasetException>(() => AnomalyDataset.Open(temp, "c"));
        Assert.Contains(Path.Combine(temp, "c", "train", "good"), e.Message);

        Make("c/train/good/0.PNG");
        e = Assert.Throws<DatasetException>(() => AnomalyDataset.Open(temp, "c"));
        Assert.Contains(Path.Combine(temp, "c", "test"), e.Message);

        Make("c/test/good/.DS_Store");
        e = Assert.Throws<DatasetException>(() => AnomalyDataset.Open(temp, "c"));
        Assert.Contains(Path.Combine(temp, "c", "test", "good"), e.Message);
        Assert.Contains("no images", e.Message);

        Make("c/test/good/0.Jpeg", "c/test/crack/1.tif");
        e = Assert.Throws<DatasetException>(() => AnomalyDataset.Open(temp, "c"));
        Assert.Contains("1.tif", e.Message);
        Assert.Contains("No mask", e.Message);

        AnomalyDataset lax = AnomalyDataset.Open(temp, "c", allowMissingMasks: true);
        Assert.Null(lax.TestSamples.Single(s => s.IsAnomalous).MaskPath);

        Make("c/ground_truth/crack/1_mask.bmp");
        Assert.EndsWith("1_mask.bmp", AnomalyDataset.Open(temp, "c").TestSamples[0].MaskPath);
        Assert.Equal("crack", AnomalyDataset.Open(temp, "c").TestSamples[0].DefectType);

        Make("c/ground_truth/crack/1_mask.png");
        e = Assert.Throws<DatasetException>(() => AnomalyDataset.Open(temp, "c"));
        Assert.Contains("Ambiguous", e.Message);
    }

    [Fact]
    public void NameSortIsOrdinal()
    {
        Make("d/train/good/b.png", "d/train/good/B.png", "d/train/good/a10.png", "d/train/good/a2.png", "d/test/good/x.png");
        AnomalyDataset d = AnomalyDataset.Open(temp, "d");
        Assert.Equal(["B.png", "a10.png", "a2.png", "b.png"], d.TrainFiles.Select(Path.GetFileName));
    }

    [Fact]
    public void ShotsFileErrorsAndRandomChoice()
    {
        string[] train = [.. Enumerable.Range(0, 10).Select(i => $"{i:D3}.png")];
        string shots = Write("s.txt", "#1: 3\n#2: 008 1\n\n#4: 0 1 2 9\n");
        Assert.Equal(["003.png"], FewShot.Select(train, 1, shots));
        Assert.Equal(["008.png", "001.png"], FewShot.Select(train, 2, shots));
        Assert.Contains("no line for k = 8", Assert.Throws<DatasetException>(() => FewShot.Select(train, 8, shots)).Message);
        Assert.Contains("line 1", Assert.Throws<DatasetException>(() => FewShot.Parse(Write("bad.txt", "1: 3"))).Message);
        Assert.Contains("lists 1", Assert.Throws<DatasetException>(() => FewShot.Parse(Write("bad2.txt", "#2: 3"))).Message);
        Assert.Throws<DatasetException>(() => FewShot.Parse(Path.Combine(temp, "missing.txt")));
        string twice = Write("twice.txt", "#2: 5 5\n");
        var repeated = Assert.Throws<DatasetException>(() => FewShot.Select(train, 2, twice));
        Assert.Contains("twice.txt", repeated.Message);
        Assert.Contains("appears twice", repeated.Message);

        IReadOnlyList<string> a = FewShot.SelectRandom(train, 4, 42);
        Assert.Equal(a, FewShot.SelectRandom(train, 4, 42));
        Assert.Equal(4, a.Distinct().Count());
        Assert.Equal(a.Order(StringComparer.Ordinal), a);
        Assert.NotEqual(a, FewShot.SelectRandom(train, 4, 43));
        Assert.Equal(train, FewShot.SelectRandom(train, 10, 1));
        Assert.Throws<DatasetException>(() => FewShot.SelectRandom(train, 11, 1));
    }

    private void Make(params string[] files)
    {
        foreach (string f in files)
        {
            string path = Path.Combine(temp, f);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, []);
        }
    }

    private string Write(string name, string text)
    {
        string path = Path.Combine(temp, name);
        File.WriteAllText(path, text);
        return path;
    }
}
