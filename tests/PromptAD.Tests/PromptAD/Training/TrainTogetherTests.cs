using PromptAD.Clip;
using PromptAD.Model;
using PromptAD.Tensors.Cpu;
using PromptAD.Tests.Model;
using PromptAD.Tests.Pipeline;
using PromptAD.Training;

namespace PromptAD.Tests.Training;

/// <summary>
/// Runs trained together (one text-encoder batch per head and epoch over all runs' prompts) end exactly where each
/// run trained alone ends: the same losses at every epoch, the same learned vectors and prototypes, bit for bit.
/// </summary>
public class TrainTogetherTests
{
    [Fact]
    public void TrainTogether_EqualsEachRunAlone()
    {
        var config = ClipConfigs.Load("tiny-test");
        using var weights = ClipWeights.Random(config, CpuBackend.Instance, seed: 4);
        var encoder = new ClipImageEncoder(weights);
        var rng = new Random(9);
        int len = 3 * config.Vision.ImageSize * config.Vision.ImageSize;
        ImageFeatures Shots(int k) => encoder.EncodeNormalized([.. Enumerable.Range(0, k * len).Select(_ => (float)rng.NextDouble() - 0.5f)], k);
        var data = new TrainingSet("bottle", "bottle", PipelineParityTests.States, [], ["a.png"]);
        // Equal seeds (equal starting vectors) in one batch too: each run's rows stay its own.
        var runs = new[] { (K: 1, Seed: 0), (K: 1, Seed: 1), (K: 2, Seed: 0), (K: 4, Seed: 1) }
            .Select(r => new TrainingRun(data, Shots(r.K), new TrainOptions { Epochs = 2, Seed = r.Seed })).ToList();
        try
        {
            var alone = runs.Select(r =>
            {
                var log = new ListProgress();
                return (Model: Trainer.Train(weights, r.Data, r.Shots, r.Options, progress: log, cancellationToken: TestContext.Current.CancellationToken), Log: log);
            }).ToList();
            var logs = runs.Select(_ => new ListProgress()).ToList();
            var together = Trainer.TrainTogether(weights, runs, logs, TestContext.Current.CancellationToken);

            Assert.Equal(runs.Count, together.Count);
            for (int r = 0; r < runs.Count; r++)
            {
                using var a = alone[r].Model;
                using var b = together[r];
                ModelAssert.SameTensors(a, b);
                Assert.Equal(alone[r].Log.Items, logs[r].Items);
                Assert.Equal(4, logs[r].Items.Count); // 2 epochs × 2 heads
            }
            // The runs really differ (distinct seeds and shots), so equality above is not trivially shared state.
            Assert.NotEqual(alone[0].Log.Items[^1].Loss, alone[1].Log.Items[^1].Loss);
        }
        finally
        {
            foreach (var r in runs) r.Shots.Dispose();
        }
    }

    [Fact]
    public void TrainTogether_RefusesRunsWithOtherOptions()
    {
        var config = ClipConfigs.Load("tiny-test");
        using var weights = ClipWeights.Random(config, CpuBackend.Instance, seed: 4);
        var data = new TrainingSet("bottle", "bottle", PipelineParityTests.States, [], ["a.png"]);
        using var f = new ClipImageEncoder(weights).EncodeNormalized(new float[3 * config.Vision.ImageSize * config.Vision.ImageSize], 1);
        var e = Assert.Throws<ArgumentException>(() => Trainer.TrainTogether(weights,
            [new TrainingRun(data, f, new TrainOptions { Epochs = 1 }), new TrainingRun(data, f, new TrainOptions { Epochs = 2, Seed = 1 })],
            cancellationToken: TestContext.Current.CancellationToken));
        Assert.Contains("every option but the seed", e.Message);
    }
}
