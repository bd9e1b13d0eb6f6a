using PromptAD.Tensors;
using PromptAD.Tensors.Autograd;

namespace PromptAD.Tests.Ops;

/// <summary>
/// Runs the op table on one backend: forward against the double-precision scalar reference, and the backward
/// of every differentiable input against central finite differences of that reference. A backend's test class
/// derives from this and supplies the backend (or skips with the reason when it is unavailable).
/// </summary>
public abstract class BackendOpTests
{
    /// <summary>The backend under test, or null with a reason to skip.</summary>
    protected abstract IBackend? Backend(out string? skipReason);

    /// <summary>Multiplies every case's tolerances: 1 for FP32 backends; a stated looser factor for reduced-precision
    /// math (TF32 GEMMs keep 10 mantissa bits, ~1e-3 relative).</summary>
    protected virtual double ToleranceScale => 1.0;

    public static TheoryData<string> ForwardCases() => new(OpTable.Names(backwardOnly: false));

    public static TheoryData<string> BackwardCases() => new(OpTable.Names(backwardOnly: true));

    protected IBackend Require()
    {
        var be = Backend(out var reason);
        if (be is null) Assert.Skip(reason ?? "backend unavailable");
        return be;
    }

    [Theory]
    [MemberData(nameof(ForwardCases))]
    public void Forward(string name)
    {
        var be = Require();
        var c = OpTable.Get(name);
        var inputs = c.MakeInputs();
        var expected = c.Reference(inputs);
        using var scope = TensorScope.Open();
        var actual = c.Run(Upload(be, c, inputs, requireGrad: false)).ToArray();
        Assert.Equal(expected.Length, actual.Length);
        double scale = Math.Max(1, expected.Max(Math.Abs));
        double worst = 0;
        int at = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double err = Math.Abs(actual[i] - expected[i]);
            if (double.IsNaN(actual[i]) || err > worst) { worst = double.IsNaN(actual[i]) ? double.PositiveInfinity : err; at = i; }
        }
        double tolerance = c.ForwardTolerance * ToleranceScale * scale;
        Assert.True(worst <= tolerance,
            $"{name} on {be.Name}: max abs error {worst:E3} at [{at}] (got {actual[at]}, expected {expected[at]}), tolerance {tolerance:E3}");
    }

    [Theory]
    [MemberData(nameof(BackwardCases))]
    public void Backward(string name)
    {
        var be = Require();
        var c = OpTable.Get(name);
        var inputs = c.MakeInputs();
        var outLength = c.Reference(inputs).Length;
        // The loss is a fixed random weighting of the output, so every output element's gradient path is exercised.
        var rng = new Random(outLength * 7919 + 1);
        var weights = Enumerable.Range(0, outLength).Select(_ => rng.NextDouble() * 2 - 1).ToArray();

        using var scope = TensorScope.Open();
        var tensors = Upload(be, c, inputs, requireGrad: true);
        var output = c.Run(tensors);
        var w = Tensor.FromArray(be, weights.Select(v => (float)v).ToArray(), outLength, 1);
        var loss = PromptAD.Tensors.Ops.MatMul(PromptAD.Tensors.Ops.Reshape(output, 1, outLength), w);
        Backprop.Backward(loss);

        for (int i = 0; i < c.Inputs.Length; i++)
        {
            if (!c.Inputs[i].Grad)
            {
                Assert.Null(tensors[i].Grad);
                continue;
            }
            Assert.NotNull(tensors[i].Grad);
            var analytic = tensors[i].Grad!.ToArray();
            var numeric = FiniteDifference(c, inputs, i, weights);
            double scale = Math.Max(1e-2, numeric.Max(Math.Abs));
            double worst = 0;
            int at = 0;
            for (int k = 0; k < numeric.Length; k++)
            {
                double err = Math.Abs(analytic[k] - numeric[k]);
                if (double.IsNaN(analytic[k]) || err > worst) { worst = double.IsNaN(analytic[k]) ? double.PositiveInfinity : err; at = k; }
            }
            double tolerance = c.GradTolerance * ToleranceScale * scale;
            Assert.True(worst <= tolerance,
                $"{name} on {be.Name}: gradient of input {i} off by {worst:E3} at [{at}] (analytic {analytic[at]}, finite difference {numeric[at]}), tolerance {tolerance:E3}");
        }
    }

    /// <summary>Central differences of Σ w·reference(x) in double precision, one input element at a time.</summary>
    private static double[] FiniteDifference(OpCase c, double[][] inputs, int which, double[] weights)
    {
        const double h = 1e-5;
        var x = inputs.Select(a => (double[])a.Clone()).ToArray();
        var grad = new double[x[which].Length];
        double Loss()
        {
            var y = c.Reference(x);
            double s = 0;
            for (int i = 0; i < y.Length; i++) s += weights[i] * y[i];
            return s;
        }
        for (int k = 0; k < grad.Length; k++)
        {
            double orig = x[which][k];
            x[which][k] = orig + h;
            double plus = Loss();
            x[which][k] = orig - h;
            double minus = Loss();
            x[which][k] = orig;
            grad[k] = (plus - minus) / (2 * h);
        }
        return grad;
    }

    internal static Tensor[] Upload(IBackend be, OpCase c, double[][] inputs, bool requireGrad)
    {
        var tensors = new Tensor[inputs.Length];
        for (int i = 0; i < inputs.Length; i++)
        {
            tensors[i] = Tensor.FromArray(be, inputs[i].Select(v => (float)v).ToArray(), c.Inputs[i].Shape);
            tensors[i].RequiresGrad = requireGrad && c.Inputs[i].Grad;
        }
        return tensors;
    }
}
