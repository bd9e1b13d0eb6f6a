using PromptAD.Clip;
using PromptAD.Kernels;
using PromptAD.Model;
using PromptAD.Tensors;
using PromptAD.Tensors.Cpu;
using PromptAD.Tests.Ops;
using PromptAD.Tests.Pipeline;
using PromptAD.Training;

namespace PromptAD.Tests.Training;

/// <summary>
/// Training with the step captured as a graph and replayed per epoch ends exactly where plain launches end (every
/// learned vector and every reported loss, bit for bit, on the emulated GPU), and where the CPU reference ends within
/// the emulated GPU's float tolerance.
/// </summary>
public sealed class GraphTrainingTests
{
    /// <summary>Two plain steps, then a capture replayed three times (the loss history's read every ten epochs would be
    /// too slow on the emulation: <see cref="TheProgressLineReportsEveryEpochInOrder"/> covers it on the CPU).</summary>
    private const int Epochs = 5;

    private sealed record Trained(float[] ImageCtx, float[] ImageCtxAb, float[] PixelCtx, float[] PixelCtxAb, IReadOnlyList<TrainProgress> Log);

    private static Trained Train(IBackend backend, int epochs = Epochs)
    {
        var config = ClipConfigs.Load("tiny-test");
        using var weights = ClipWeights.Random(config, backend, seed: 2);
        var rng = new Random(3);
        int len = 3 * config.Vision.ImageSize * config.Vision.ImageSize;
        var shots = Enumerable.Range(0, 2).Select(_ => Enumerable.Range(0, len).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray()).ToList();
        var log = new ListProgress();
        using var model = Trainer.Train(weights, new TrainingSet("bottle", "bottle", PipelineParityTests.States, shots, ["a.png", "b.png"]),
            new TrainOptions { Epochs = epochs, Seed = 5 }, progress: log, cancellationToken: TestContext.Current.CancellationToken);
        return new(model.Image.Ctx, model.Image.CtxAb, model.Pixel.Ctx, model.Pixel.CtxAb, log.Items);
    }

    private static readonly Lazy<Trained> Graphs = new(() => OnEmulatedGpu(graphs: true));
    private static readonly Lazy<Trained> Plain = new(() => OnEmulatedGpu(graphs: false));

    private static Trained OnEmulatedGpu(bool graphs)
    {
        using var runtime = EmulatedKernels.CreateRuntime();
        using var backend = new CudaBackend(runtime, ownsRuntime: false) { UseGraphs = graphs };
        var trained = Train(backend);
        Assert.Equal(graphs ? 2 * (Epochs - Trainer.PlainSteps) : 0, runtime.Counters.Snapshot().GraphLaunches); // both heads
        return trained;
    }

    [Fact]
    public void GraphsAndPlainLaunchesLearnTheSameVectorsBitForBit()
    {
        var g = Graphs.Value;
        var p = Plain.Value;
        Assert.Equal(p.ImageCtx, g.ImageCtx);
        Assert.Equal(p.ImageCtxAb, g.ImageCtxAb);
        Assert.Equal(p.PixelCtx, g.PixelCtx);
        Assert.Equal(p.PixelCtxAb, g.PixelCtxAb);
        Assert.Equal(p.Log, g.Log);
        Assert.Equal(2 * Epochs, g.Log.Count);
        // The replays really moved the vectors: the last epochs' losses differ from each other.
        Assert.NotEqual(g.Log[Epochs - 2].Loss, g.Log[Epochs - 1].Loss);
    }

    [Fact]
    public void TheEmulatedGpuWithGraphsLearnsWhatTheCpuLearns()
    {
        var g = Graphs.Value;
        var cpu = Train(CpuBackend.Instance);
        AssertClose(cpu.ImageCtx, g.ImageCtx);
        AssertClose(cpu.ImageCtxAb, g.ImageCtxAb);
        AssertClose(cpu.PixelCtx, g.PixelCtx);
        AssertClose(cpu.PixelCtxAb, g.PixelCtxAb);
        for (int i = 0; i < cpu.Log.Count; i++)
        {
            Assert.Equal(cpu.Log[i].Epoch, g.Log[i].Epoch);
            Assert.Equal(cpu.Log[i].LearningRate, g.Log[i].LearningRate);
            Assert.Equal(cpu.Log[i].Loss, g.Log[i].Loss, 1e-4f);
        }
    }

    private static void AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 1e-5f);
    }

    [Fact]
    public void TheProgressLineReportsEveryEpochInOrder()
    {
        var log = Train(CpuBackend.Instance, epochs: LossReadback.ReadEvery + 3).Log;
        int epochs = LossReadback.ReadEvery + 3;
        Assert.Equal([.. Enumerable.Range(1, epochs), .. Enumerable.Range(1, epochs)], log.Select(p => p.Epoch));
        Assert.Equal(CosineAnnealing.LearningRate(0.002f, 1e-5f, 4, epochs), log[4].LearningRate);
        Assert.All(log, p => Assert.True(p.Loss > 0 && float.IsFinite(p.Loss)));
    }
}
