using PromptAD.Clip;
using PromptAD.Kernels;
using PromptAD.Model;
using PromptAD.Pipeline;
using PromptAD.Scoring;
using PromptAD.Tensors.Cpu;
using PromptAD.Tests.Ops;
using PromptAD.Tests.Pipeline;
using PromptAD.Training;

namespace PromptAD.Tests.Scoring;

/// <summary>
/// Scoring batches replayed from a captured graph (from the second batch of a size on) score exactly as plain
/// launches do on the emulated GPU, batch after batch and across batch sizes.
/// </summary>
public sealed class ScoringGraphTests
{
    [Fact]
    public void ReplayedBatchesScoreExactlyAsPlainLaunches()
    {
        var config = ClipConfigs.Load("tiny-test");
        var rng = new Random(6);
        int len = 3 * config.Vision.ImageSize * config.Vision.ImageSize;
        float[] Image() => [.. Enumerable.Range(0, len).Select(_ => (float)rng.NextDouble() - 0.5f)];
        using var cpuWeights = ClipWeights.Random(config, CpuBackend.Instance, seed: 7);
        using var model = Trainer.Train(cpuWeights, new TrainingSet("bottle", "bottle", PipelineParityTests.States, [Image()], ["a.png"]),
            new TrainOptions { Epochs = 1 }, cancellationToken: TestContext.Current.CancellationToken);
        // Batches of 2, 2, 2, 1 and 2 images: plain, captured + replayed, replayed, another size (plain, its buffers
        // replace those of size 2), size 2 again (plain: the first of its size since).
        float[][][] batches = [[Image(), Image()], [Image(), Image()], [Image(), Image()], [Image()], [Image(), Image()]];

        List<IReadOnlyList<ImageScore>> Score(bool graphs, out long graphLaunches)
        {
            using var runtime = EmulatedKernels.CreateRuntime();
            using var backend = new CudaBackend(runtime, ownsRuntime: false) { UseGraphs = graphs };
            using var weights = ClipWeights.Random(config, backend, seed: 7);
            using var detector = new Detector(weights, model, outputSize: 16, batchSize: 2);
            var scores = batches.Select(b => detector.ScoreImages(b)).ToList();
            graphLaunches = runtime.Counters.Snapshot().GraphLaunches;
            return scores;
        }

        var replayed = Score(graphs: true, out long launches);
        var plain = Score(graphs: false, out long none);
        Assert.Equal(2, launches); // batches 2 and 3
        Assert.Equal(0, none);
        for (int b = 0; b < batches.Length; b++)
        {
            Assert.Equal(plain[b].Count, replayed[b].Count);
            for (int i = 0; i < plain[b].Count; i++)
            {
                Assert.Equal(plain[b][i].Score, replayed[b][i].Score);
                Assert.Equal(plain[b][i].VisionMax, replayed[b][i].VisionMax);
                Assert.Equal(plain[b][i].PixelMap, replayed[b][i].PixelMap);
            }
        }
        // Different images got different scores: a replay did not return a stale batch.
        Assert.NotEqual(replayed[0][0].PixelMap, replayed[1][0].PixelMap);
        Assert.NotEqual(replayed[1][0].PixelMap, replayed[2][0].PixelMap);
    }
}
