namespace PromptAD.Tensors;

/// <summary>
/// Names and argument checks of the training-clock ops (<see cref="IBackend.SgdStep"/>, <see cref="IBackend.WriteAtStep"/>,
/// <see cref="IBackend.AdvanceStep"/>), shared by every backend like <see cref="OpChecks"/>. The step index is a float
/// in a one-element tensor on the backend, so a step reads and advances it without the host.
/// </summary>
public static class StepOps
{
    public const string SgdStepName = "sgd_step", WriteAtStepName = "write_at_step", AdvanceStepName = "advance_step";

    public static void SgdStep(Tensor parameter, Tensor gradient, Tensor momentumBuffer, Tensor learningRates, Tensor step)
    {
        Require.SameLength(parameter, gradient, SgdStepName, "parameter", "gradient");
        Require.SameLength(parameter, momentumBuffer, SgdStepName, "parameter", "momentum buffer");
        if (learningRates.Length == 0) throw new ArgumentException($"{SgdStepName}: the learning-rate table is empty");
        Require.Length(step, 1, SgdStepName, "step");
    }

    public static void WriteAtStep(Tensor source, Tensor history, Tensor step, int stride, int offset)
    {
        Require.Length(step, 1, WriteAtStepName, "step");
        if (stride <= 0 || offset < 0 || offset + source.Length > stride || history.Length % stride != 0)
            throw new ArgumentException($"{WriteAtStepName}: {source.Length} values at offset {offset} do not fit rows of {stride} " +
                $"in history {Shape.Format(history.Shape)}");
    }

    public static void AdvanceStep(Tensor step) => Require.Length(step, 1, AdvanceStepName, "step");

    /// <summary>The step index a float holds (the CPU backend's bounds check; the kernels trust the caller).</summary>
    public static int Index(float step, long rows, string op, string table)
    {
        int i = (int)step;
        if (i < 0 || i >= rows) throw new InvalidOperationException($"{op}: step {step} is outside the {table} ({rows} rows)");
        return i;
    }
}

/// <summary>
/// One training step captured once and replayed (<see cref="IBackend.CaptureStep"/>): on a GPU a CUDA graph launched as
/// one call, elsewhere the step's code run again. Either way a replay does exactly what the captured code did, so
/// the code must read every per-step value (learning rate, step index) from backend memory, not from the host.
/// </summary>
public interface ICapturedStep : IDisposable
{
    /// <summary>True when replays are one graph launch; false when they run the code again.</summary>
    bool IsGraph { get; }

    void Replay();
}

/// <summary>The capture of a backend that has no graphs: every replay runs the step's code again.</summary>
public sealed class RerunStep(Action step) : ICapturedStep
{
    public bool IsGraph => false;

    public void Replay() => step();

    public void Dispose() { }
}
