namespace PromptAD.Tensors.Autograd;

/// <summary>Where a node's backward puts the gradients of its inputs.</summary>
public sealed class GradSink
{
    private readonly Dictionary<Tensor, Tensor> _grads = new(ReferenceEqualityComparer.Instance);

    /// <summary>True when a gradient for <paramref name="input"/> is wanted (it requires one).</summary>
    public bool Wants(Tensor input) => input.RequiresGrad;

    /// <summary>Adds <paramref name="grad"/> (which the sink now owns) to the gradient of <paramref name="input"/>.</summary>
    public void Add(Tensor input, Tensor grad)
    {
        if (!input.RequiresGrad) { grad.Dispose(); return; }
        if (!Shape.Equal(input.Shape, grad.Shape))
            throw new InvalidOperationException($"gradient {Shape.Format(grad.Shape)} for input {Shape.Format(input.Shape)}");
        if (_grads.TryGetValue(input, out var existing))
        {
            existing.Backend.Axpby(1f, existing, 1f, grad, existing);
            grad.Dispose();
        }
        else
        {
            _grads[input] = grad;
        }
    }

    internal Tensor? Take(Tensor t)
    {
        if (_grads.Remove(t, out var g)) return g;
        return null;
    }
}

/// <summary>Reverse-mode differentiation over the recorded graph.</summary>
public static class Backprop
{
    /// <summary>
    /// Back-propagates from a one-element <paramref name="loss"/> and accumulates into the <see cref="Tensor.Grad"/>
    /// of every leaf that requires a gradient. Intermediate gradients are freed as soon as they are used.
    /// </summary>
    public static void Backward(Tensor loss)
    {
        if (loss.Length != 1) throw new ArgumentException($"Backward needs a one-element loss, got {Shape.Format(loss.Shape)}");
        if (!loss.RequiresGrad) throw new InvalidOperationException("the loss does not depend on any tensor that requires a gradient");

        var order = TopologicalOrder(loss);
        var sink = new GradSink();
        var seed = Tensor.Full(loss.Backend, 1f, loss.Shape.ToArray());
        TensorScope.Forget(seed);
        sink.Add(loss, seed);

        // Reverse topological order: every consumer of a tensor runs before the tensor's own node.
        for (int i = order.Count - 1; i >= 0; i--)
        {
            var t = order[i];
            var g = sink.Take(t);
            if (g is null) continue;
            if (t.Node is { } node)
            {
                using (Trace.Scope(node.BackwardName)) node.Backward(g, sink);
                g.Dispose();
            }
            else if (t.Grad is { } existing)
            {
                existing.Backend.Axpby(1f, existing, 1f, g, existing);
                g.Dispose();
            }
            else
            {
                t.SetGrad(g);
            }
        }
    }

    private static List<Tensor> TopologicalOrder(Tensor root)
    {
        var order = new List<Tensor>();
        var visited = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<(Tensor t, int next)>();
        stack.Push((root, 0));
        visited.Add(root);
        while (stack.Count > 0)
        {
            var (t, next) = stack.Pop();
            var inputs = t.Node?.Inputs ?? [];
            if (next < inputs.Length)
            {
                stack.Push((t, next + 1));
                var child = inputs[next];
                if (child.RequiresGrad && visited.Add(child)) stack.Push((child, 0));
            }
            else
            {
                order.Add(t);
            }
        }
        return order;
    }
}
