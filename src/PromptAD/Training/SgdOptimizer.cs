using PromptAD.Tensors;

namespace PromptAD.Training;

/// <summary>
/// SGD with momentum and weight decay exactly as torch.optim.SGD (dampening 0, no Nesterov): g = grad + wd·p;
/// buf = g on the first step, then buf = momentum·buf + g; p = p − lr·buf. One fused op per parameter
/// (<see cref="IBackend.SgdStep"/>) reading the learning rate of the clock's current step on the backend.
/// </summary>
public sealed class SgdOptimizer : IDisposable
{
    private readonly Tensor[] _parameters;
    private readonly Tensor?[] _momentum;

    public SgdOptimizer(IReadOnlyList<Tensor> parameters, float momentum = 0.9f, float weightDecay = 5e-4f)
    {
        _parameters = parameters.ToArray();
        _momentum = new Tensor?[_parameters.Length];
        Momentum = momentum;
        WeightDecay = weightDecay;
    }

    public float Momentum { get; }
    public float WeightDecay { get; }

    /// <summary>
    /// One step at the learning rate of <paramref name="clock"/>'s current step (the clock is not advanced here). The
    /// first step allocates the momentum buffers; every later one queues exactly the same work.
    /// </summary>
    public void Step(TrainingClock clock)
    {
        for (int i = 0; i < _parameters.Length; i++)
        {
            var p = _parameters[i];
            if (p.Grad is not { } grad) continue;
            bool first = _momentum[i] is null;
            if (_momentum[i] is not { } buf)
            {
                buf = Tensor.Empty(p.Backend, p.Shape.ToArray());
                TensorScope.Detach(buf); // momentum lives as long as the optimizer, not the step's scope
                _momentum[i] = buf;
            }
            p.Backend.SgdStep(p, grad, buf, clock.LearningRates, clock.Step, Momentum, WeightDecay, first);
        }
    }

    public void ZeroGrad()
    {
        foreach (var p in _parameters) p.ZeroGrad();
    }

    public void Dispose()
    {
        foreach (var m in _momentum) m?.Dispose();
    }
}

/// <summary>torch.optim.lr_scheduler.CosineAnnealingLR: lr(t) = min + (base − min)·(1 + cos(π·t/T))/2.</summary>
public static class CosineAnnealing
{
    public static float LearningRate(float baseRate, float minRate, int step, int totalSteps) =>
        totalSteps <= 0 ? baseRate : (float)(minRate + (baseRate - minRate) * (1 + Math.Cos(Math.PI * step / totalSteps)) / 2);
}
