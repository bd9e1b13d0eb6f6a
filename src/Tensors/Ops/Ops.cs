using PromptAD.Tensors.Autograd;

namespace PromptAD.Tensors;

/// <summary>
/// The differentiable op layer: each op allocates its output on the inputs' backend, runs the backend's
/// forward, and — only when some input requires a gradient — records a node whose backward computes the
/// gradients of exactly the inputs that require one. Frozen weights therefore cost no graph and no gradient
/// memory. Ops are grouped by family in partial files.
/// </summary>
public static partial class Ops
{
    private static bool AnyRequiresGrad(Tensor[] inputs)
    {
        foreach (var t in inputs) if (t.RequiresGrad) return true;
        return false;
    }

    /// <summary>Records <paramref name="backward"/> for <paramref name="output"/> when any input requires a gradient.</summary>
    private static Tensor Track(Tensor output, string op, Tensor[] inputs, Action<Tensor, GradSink> backward)
    {
        if (AnyRequiresGrad(inputs))
        {
            output.RequiresGrad = true;
            output.Node = new GradNode(op, inputs, backward);
        }
        return output;
    }

    private static void NoGrad(string op, params Tensor[] inputs)
    {
        if (AnyRequiresGrad(inputs)) throw new NotSupportedException($"{op} is forward-only; its inputs must not require a gradient");
    }

    private static IBackend SameBackend(string op, params Tensor[] inputs)
    {
        var backend = inputs[0].Backend;
        foreach (var t in inputs)
            if (!ReferenceEquals(t.Backend, backend))
                throw new ArgumentException($"{op}: inputs live on different backends ({backend.Name} and {t.Backend.Name})");
        return backend;
    }

    private static Tensor Like(Tensor t) => Tensor.Empty(t.Backend, t.Shape.ToArray());

    private static int[] WithLastDim(Tensor t, int last)
    {
        var shape = t.Rank == 0 ? new int[1] : t.Shape.ToArray();
        shape[^1] = last;
        return shape;
    }
}
