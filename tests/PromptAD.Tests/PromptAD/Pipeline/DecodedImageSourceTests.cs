using PromptAD.Clip;
using PromptAD.Clip.Imaging;
using PromptAD.Data;
using PromptAD.Model;
using PromptAD.Pipeline;
using PromptAD.Tensors.Cpu;
using PromptAD.Training;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace PromptAD.Tests.Pipeline;

/// <summary>
/// The test stage decodes the next chunk while it scores this one: the chunks, their order, the scores and the handling of
/// unreadable images are those of decoding inline (each image scored on its own, in order; errors in the samples' order).
/// </summary>
public sealed class DecodedImageSourceTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("promptad-decode-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void PrefetchedChunksMatchInlineDecodingAndReportUnreadableImagesInOrder()
    {
        var ct = TestContext.Current.CancellationToken;
        var config = ClipConfigs.Load("tiny-test");
        using var weights = ClipWeights.Random(config, CpuBackend.Instance, 6);
        var pre = new ClipPreprocessor(config.Vision.ImageSize);
        var files = Enumerable.Range(0, 7).Select(i => Png(Path.Combine(_root, $"{i}.png"), i)).ToList();
        File.WriteAllText(files[4], "not a png"); // in the second chunk of three
        var set = new TrainingSet("widget", "widget", ["damaged {}"], [pre.Preprocess(files[0])], [files[0]]);
        using var model = Trainer.Train(weights, set, new TrainOptions { Epochs = 1 }, cancellationToken: ct);
        using var detector = new Detector(weights, model, outputSize: 16, batchSize: 3);
        var samples = files.Select(f => new TestSample(f, "good", false, null)).ToList();

        var events = new List<string>();
        var chunks = new List<IReadOnlyList<ScoredImage>>();
        foreach (var chunk in new DecodedImageSource(detector).Score(samples, (s, _) => events.Add("unreadable " + Path.GetFileName(s.ImagePath)), ct))
        {
            chunks.Add(chunk);
            events.Add("chunk " + string.Join(",", chunk.Select(c => Path.GetFileName(c.Sample.ImagePath))));
        }
        Assert.Equal(["chunk 0.png,1.png,2.png", "unreadable 4.png", "chunk 3.png,5.png", "chunk 6.png"], events);
        foreach (var scored in chunks.SelectMany(c => c))
        {
            var alone = detector.ScoreImages([pre.Preprocess(scored.Sample.ImagePath)])[0];
            Assert.Equal(alone.Score, scored.Score.Score, 5);
            Assert.NotNull(scored.Image);
        }

        // Without the callback the unreadable image ends the run when its chunk is reached, after the first chunk.
        int delivered = 0;
        var ex = Assert.Throws<ImageLoadException>(() =>
        {
            foreach (var chunk in new DecodedImageSource(detector).Score(samples, null, ct)) delivered += chunk.Count;
        });
        Assert.Equal(3, delivered);
        Assert.Contains("4.png", ex.Message);
    }

    private static string Png(string path, int seed)
    {
        var rng = new Random(seed);
        using var img = new Image<Rgb24>(40, 40);
        for (int y = 0; y < 40; y++)
            for (int x = 0; x < 40; x++)
            {
                byte v = (byte)(90 + rng.Next(60));
                img[x, y] = new Rgb24(v, (byte)(255 - v), v);
            }
        img.SaveAsPng(path);
        return path;
    }
}
