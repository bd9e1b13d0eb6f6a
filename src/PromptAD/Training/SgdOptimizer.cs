using PromptAD.Tensors;

namespace PromptAD.Training;

/// <summary>
/// SGD with momentum and weight decay exactly as torch.optim.SGD (dampening 0, no Nesterov): g = grad + wd·p;
/// buf = g on the first step, then buf = momentum·buf + g; p = p − lr·buf. The learning rate is set per step by the
/// caller (see <see cref="CosineAnnealing"/>).
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

    public void Step(float learningRate)
    {
        for (int i = 0; i < _parameters.Length; i++)
        {
            var p = _parameters[i];
            if (p.Grad is not { } grad) continue;
            var be = p.Backend;
            // grad ← grad + wd·p (in place: the gradient is consumed by this step).
            be.Axpby(1f, grad, WeightDecay, p, grad);
            if (_momentum[i] is not { } buf)
            {
                buf = Tensor.Empty(be, p.Shape.ToArray());
                TensorScope.Detach(buf); // momentum lives as long as the optimizer, not the step's scope
                be.Copy(grad, buf);
                _momentum[i] = buf;
            }
            else
            {
                be.Axpby(Momentum, buf, 1f, grad, buf);
            }
            be.Axpby(1f, p, -learningRate, buf, p);
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
