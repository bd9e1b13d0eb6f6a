using PromptAD.Clip;
using PromptAD.Kernels;
using PromptAD.Model;
using PromptAD.Pipeline;
using PromptAD.Training;

namespace PromptAD.Profiling;

/// <summary>One measured phase: what the device did between two points of a run.</summary>
public sealed record ProfilePhase(string Name, DeviceCounts Counts);

/// <summary>What <see cref="DeviceProfiler.Run"/> measured, and the backend's memory pool at the end.</summary>
public sealed record DeviceProfile(IReadOnlyList<ProfilePhase> Phases, DeviceMemoryStats Memory)
{
    /// <summary>The last training step of a head: the steady state once every buffer and index is on the device.</summary>
    public DeviceCounts SteadyTrainingStep(PromptHead head) =>
        Phases.Last(p => p.Name.StartsWith($"train {Head(head)} step", StringComparison.Ordinal)).Counts;

    /// <summary>
    /// What one replay of a head's captured training step runs inside its graph (counted at capture), or null when the
    /// step was not captured as a graph (fewer than three epochs, PROMPTAD_CUDA_GRAPHS=0, no graph support).
    /// </summary>
    public DeviceCounts? TrainingGraph(PromptHead head) =>
        Phases.LastOrDefault(p => p.Name == GraphPhase(head))?.Counts;

    internal static string GraphPhase(PromptHead head) => $"train {Head(head)} graph (one replay, inside)";

    /// <summary>The last scoring batch: the steady state.</summary>
    public DeviceCounts SteadyScoringBatch => Phases.Last(p => p.Name.StartsWith("score batch", StringComparison.Ordinal)).Counts;

    internal static string Head(PromptHead head) => head == PromptHead.Image ? "image" : "pixel";
}

/// <summary>
/// Counts what the device does per training step and per scoring batch: trains both heads of a random-weight model on
/// synthetic shots (the real <see cref="Trainer"/>; a step is the work queued between two steps, with graphs a replay
/// after the first steps; the contents of a captured step's graph are listed as a phase of their own) and scores
/// synthetic images in batches (the real <see cref="Detector"/>). Inputs are random, so only the counts mean anything.
/// </summary>
public static class DeviceProfiler
{
    public sealed record Options(int Shots = 2, int Epochs = 4, int Batches = 3, int BatchSize = 4, int OutputSize = 64, int Seed = 0);

    public static DeviceProfile Run(CudaBackend backend, ClipConfig config, Options options, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Epochs, 2); // a step is measured between two epochs
        var phases = new List<ProfilePhase>();
        var counters = backend.Runtime.Counters;
        var rng = new Random(options.Seed);
        var shots = Bench.BenchShots.Random("object", ["damaged {}", "{} with flaw"], options.Shots, rng);
        DeviceCounts last = counters.Snapshot();
        var graphs = new List<ProfilePhase>();
        void StepQueued(TrainStep step)
        {
            var now = counters.Snapshot();
            if (step.Epoch > 1) phases.Add(new ProfilePhase($"train {DeviceProfile.Head(step.Head)} step {step.Epoch}", now - last));
            last = now;
            if (step.Captured is CudaBackend.GraphStep graph && !graphs.Any(g => g.Name == DeviceProfile.GraphPhase(step.Head)))
                graphs.Add(new ProfilePhase(DeviceProfile.GraphPhase(step.Head), graph.Contents));
        }
        using var trained = Bench.RandomWeightsModel.Train(backend, config, shots, new TrainOptions { Epochs = options.Epochs, Seed = options.Seed },
            options.Seed, StepQueued, ct);
        phases.AddRange(graphs);

        using var detector = new Detector(trained.Weights, trained.Model, options.OutputSize, options.BatchSize);
        for (int b = 1; b <= options.Batches; b++)
        {
            var batch = Enumerable.Range(0, options.BatchSize).Select(_ => Bench.BenchShots.RandomImage(trained.Images.ImageLength, rng)).ToList();
            var before = counters.Snapshot();
            detector.ScoreImages(batch);
            phases.Add(new ProfilePhase($"score batch {b}", counters.Snapshot() - before));
        }
        return new DeviceProfile(phases, backend.Memory.Stats);
    }
}
