using PromptAD.Tensors;

namespace PromptAD.Tests.Ops;

/// <summary>One input of an op case: its shape, how to draw its values, and whether its gradient is checked.</summary>
public sealed record OpInput(int[] Shape, bool Grad = true, double Scale = 1.0, double Offset = 0.0);

/// <summary>
/// One row of the op table (ggml test-backend-ops style): inputs, the op as the engine runs it (through
/// <see cref="PromptAD.Tensors.Ops"/>), and the double-precision scalar reference of the same function.
/// The backward of every input with Grad = true is checked against central finite differences of the reference.
/// </summary>
public sealed record OpCase(
    string Op,
    string Variant,
    OpInput[] Inputs,
    Func<Tensor[], Tensor> Run,
    Func<double[][], double[]> Reference,
    double ForwardTolerance = 2e-5,
    double GradTolerance = 2e-3)
{
    public string Name => $"{Op}/{Variant}";

    public bool HasBackward => Inputs.Any(i => i.Grad);

    /// <summary>Input values drawn from a generator seeded by the case name, so every run sees the same data.</summary>
    public double[][] MakeInputs()
    {
        var rng = new Random(StableHash(Name));
        return Inputs.Select(i =>
        {
            var v = new double[PromptAD.Tensors.Shape.Elements(i.Shape)];
            for (int k = 0; k < v.Length; k++) v[k] = i.Offset + i.Scale * Normal(rng);
            return v;
        }).ToArray();
    }

    private static double Normal(Random rng)
    {
        double u1 = 1 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    private static int StableHash(string s)
    {
        unchecked
        {
            int h = (int)2166136261;
            foreach (char c in s) h = (h ^ c) * 16777619;
            return h;
        }
    }

    public override string ToString() => Name;
}
