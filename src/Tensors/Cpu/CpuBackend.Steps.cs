namespace PromptAD.Tensors.Cpu;

// The training clock (StepOps): the reference the optimizer.cu kernels are tested against.
public sealed unsafe partial class CpuBackend
{
    public void SgdStep(Tensor parameter, Tensor gradient, Tensor momentumBuffer, Tensor learningRates, Tensor step,
        float momentum, float weightDecay, bool first)
    {
        const string op = StepOps.SgdStepName;
        StepOps.SgdStep(parameter, gradient, momentumBuffer, learningRates, step);
        float* p = P(parameter, op), g = P(gradient, op), b = P(momentumBuffer, op), lrs = P(learningRates, op);
        float lr = lrs[StepOps.Index(*P(step, op), learningRates.Length, op, "learning-rate table")];
        // The arithmetic of three Axpby passes (g = 1·g + wd·p; b = m·b + 1·g; p = 1·p + (−lr)·b), each product and
        // sum rounded on its own, fused into one pass.
        for (long i = 0; i < parameter.Length; i++)
        {
            float gi = 1f * g[i] + weightDecay * p[i];
            float bi = first ? gi : momentum * b[i] + 1f * gi;
            g[i] = gi;
            b[i] = bi;
            p[i] = 1f * p[i] + -lr * bi;
        }
    }

    public void WriteAtStep(Tensor source, Tensor history, Tensor step, int stride, int offset)
    {
        const string op = StepOps.WriteAtStepName;
        StepOps.WriteAtStep(source, history, step, stride, offset);
        int row = StepOps.Index(*P(step, op), history.Length / stride, op, "history");
        new ReadOnlySpan<float>(P(source, op), checked((int)source.Length)).CopyTo(Span(history).Slice(row * stride + offset));
    }

    public void AdvanceStep(Tensor step)
    {
        StepOps.AdvanceStep(step);
        *P(step, StepOps.AdvanceStepName) += 1f;
    }

    public ICapturedStep CaptureStep(Action step) => new RerunStep(step);
}
