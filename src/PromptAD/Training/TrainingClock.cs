using PromptAD.Tensors;

namespace PromptAD.Training;

/// <summary>
/// The step index and the whole learning-rate schedule on the backend: uploaded once, read by the SGD step
/// (<see cref="IBackend.SgdStep"/>) at the index the step itself advances (<see cref="Advance"/>), so a captured
/// training step replays every epoch unchanged and the host never sends a per-step value.
/// </summary>
public sealed class TrainingClock : IDisposable
{
    private readonly float[] learningRates;

    public TrainingClock(IBackend backend, float[] learningRates)
    {
        this.learningRates = (float[])learningRates.Clone();
        LearningRates = Tensor.FromArray(backend, learningRates, learningRates.Length);
        Step = Tensor.Zeros(backend, 1);
        TensorScope.Detach(LearningRates);
        TensorScope.Detach(Step);
    }

    /// <summary>The cosine schedule of <see cref="CosineAnnealing"/> over <paramref name="epochs"/> steps.</summary>
    public static TrainingClock Cosine(IBackend backend, float baseRate, float minRate, int epochs) =>
        new(backend, [.. Enumerable.Range(0, epochs).Select(e => CosineAnnealing.LearningRate(baseRate, minRate, e, epochs))]);

    /// <summary>lr per step, [steps] (empty for a run of zero epochs, which takes no step).</summary>
    public Tensor LearningRates { get; }

    /// <summary>The index of the running step, [1] (a float: exact up to 2^24 steps).</summary>
    public Tensor Step { get; }

    public int Steps => learningRates.Length;

    /// <summary>The learning rate of step <paramref name="step"/> (0-based), as the device reads it.</summary>
    public float LearningRate(int step) => learningRates[step];

    /// <summary>Moves to the next step (queued on the backend, the last thing a step does).</summary>
    public void Advance() => Step.Backend.AdvanceStep(Step);

    public void Dispose()
    {
        LearningRates.Dispose();
        Step.Dispose();
    }
}
