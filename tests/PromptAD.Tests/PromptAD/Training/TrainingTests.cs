using PromptAD.Tensors;
using PromptAD.Tensors.Autograd;
using PromptAD.Tensors.Cpu;
using PromptAD.Training;
using R = PromptAD.Tests.Ops.ScalarReference;
using O = PromptAD.Tensors.Ops;

namespace PromptAD.Tests.Training;

/// <summary>Losses against a double-precision re-derivation of SPEC §5.3 (values and finite-difference gradients);
/// SGD and cosine annealing against hand-computed torch.optim steps.</summary>
public sealed class TrainingTests
{
    private static readonly IBackend Cpu = CpuBackend.Instance;
    private const int D = 6;

    private static double[] Rand(int n, int seed) { var r = new Random(seed); return Enumerable.Range(0, n).Select(_ => r.NextDouble() * 2 - 1).ToArray(); }

    private static double ReferenceLoss(double[] v, int nv, double[] tn, int nn, double[] tm, int nm, double[] tl, int nl, double s, double margin)
    {
        double[] Normalize(double[] x, int rows) => R.l2normalize_forward(x, rows, D);
        var ta = tm.Concat(tl).ToArray();
        var pn = Normalize(R.sum_rows(tn, nn, D, 1.0 / nn), 1);
        var pa = Normalize(R.sum_rows(ta, nm + nl, D, 1.0 / (nm + nl)), 1);
        var classes = pn.Concat(Normalize(ta, nm + nl)).ToArray();
        var logits = R.map(R.matmul(v, classes, nv, 1 + nm + nl, D, false, true), x => s * x);
        double ce = R.softmax_crossentropy_forward(logits, nv, 1 + nm + nl, new int[nv])[0];
        var dn = R.squared_distance_forward(v, pn, nv, D, true);
        var da = R.squared_distance_forward(v, pa, nv, D, true);
        double eam = dn.Zip(da, (a, b) => Math.Max(0, a - b + margin)).Average();
        var mm = R.sum_rows(Normalize(tm, nm), nm, D, 1.0 / nm);
        var ml = R.sum_rows(Normalize(tl, nl), nl, D, 1.0 / nl);
        double align = mm.Zip(ml, (a, b) => (a - b) * (a - b)).Sum();
        return ce + eam + 0.001 * align;
    }

    [Theory]
    [InlineData(0.0, 4.6)]
    [InlineData(0.3, 100.0)]
    public void LossMatchesReferenceAndItsGradients(double margin, double scale)
    {
        const int nv = 3, nn = 2, nm = 4, nl = 3;
        var v = R.l2normalize_forward(Rand(nv * D, 1), nv, D);
        var tn = Rand(nn * D, 2);
        var tm = Rand(nm * D, 3);
        var tl = Rand(nl * D, 4);
        using var scope = TensorScope.Open();
        Tensor T(double[] x, int rows, bool grad) { var t = Tensor.FromArray(Cpu, x.Select(a => (float)a).ToArray(), rows, D); t.RequiresGrad = grad; return t; }
        var learned = T(tl, nl, true);
        var normal = T(tn, nn, true);
        var terms = PromptLosses.Compute(T(v, nv, false), normal, T(tm, nm, false), learned, (float)scale, (float)margin);
        double expected = ReferenceLoss(v, nv, tn, nn, tm, nm, tl, nl, scale, margin);
        Assert.Equal(expected, terms.Total.Item(), 2e-5 * Math.Max(1, Math.Abs(expected)));
        Assert.Equal(terms.Total.Item(), terms.Contrastive.Item() + terms.Margin.Item() + 0.001f * terms.Alignment.Item(), 1e-5);

        Backprop.Backward(terms.Total);
        const double h = 1e-6;
        foreach (var (tensor, values, which) in new[] { (learned, tl, 0), (normal, tn, 1) })
        {
            var g = tensor.Grad!.ToArray();
            for (int k = 0; k < values.Length; k++)
            {
                var plus = (double[])values.Clone(); plus[k] += h;
                var minus = (double[])values.Clone(); minus[k] -= h;
                double fd = which == 0
                    ? (ReferenceLoss(v, nv, tn, nn, tm, nm, plus, nl, scale, margin) - ReferenceLoss(v, nv, tn, nn, tm, nm, minus, nl, scale, margin)) / (2 * h)
                    : (ReferenceLoss(v, nv, plus, nn, tm, nm, tl, nl, scale, margin) - ReferenceLoss(v, nv, minus, nn, tm, nm, tl, nl, scale, margin)) / (2 * h);
                Assert.True(Math.Abs(g[k] - fd) <= 2e-3 * Math.Max(0.1, Math.Abs(fd)), $"input {which} [{k}]: autograd {g[k]}, finite difference {fd}");
            }
        }
    }

    [Fact]
    public void SgdMatchesTorchStepByHand()
    {
        using var scope = TensorScope.Open();
        var p = Tensor.FromArray(Cpu, [1f], 1);
        using var sgd = new SgdOptimizer([p], momentum: 0.9f, weightDecay: 5e-4f);
        using var clock = new TrainingClock(Cpu, [0.002f, 0.002f]);
        // Constant gradient 0.5; torch.optim.SGD: g = 0.5 + wd·p; buf = g (step 1), 0.9·buf + g after; p -= lr·buf.
        double[] expected = [0.998999, 0.997097101];
        for (int step = 0; step < 2; step++)
        {
            p.ZeroGrad();
            p.RequiresGrad = true;
            Backprop.Backward(O.Scale(O.Mean(p), 0.5f));
            sgd.Step(clock);
            clock.Advance();
            Assert.Equal(expected[step], p.Item(), 1e-6);
        }
    }

    [Fact]
    public void CosineAnnealingFollowsTorchSchedule()
    {
        Assert.Equal(0.002f, CosineAnnealing.LearningRate(0.002f, 1e-5f, 0, 100));
        Assert.Equal((0.002 + 1e-5) / 2, CosineAnnealing.LearningRate(0.002f, 1e-5f, 50, 100), 1e-9);
        Assert.Equal(1e-5, CosineAnnealing.LearningRate(0.002f, 1e-5f, 100, 100), 1e-9);
        Assert.Equal(1e-5 + (0.002 - 1e-5) * (1 + Math.Cos(Math.PI * 0.25)) / 2, CosineAnnealing.LearningRate(0.002f, 1e-5f, 25, 100), 1e-9);
    }
}
