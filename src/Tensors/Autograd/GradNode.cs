namespace PromptAD.Tensors.Autograd;

/// <summary>
/// One recorded operation: its inputs and a closure that, given the gradient of the op's output, adds the
/// gradient of each input that requires one (through <see cref="GradSink"/>). Only ops with at least one input
/// that requires a gradient are recorded, so the frozen CLIP weights never appear in the graph.
/// </summary>
internal sealed class GradNode(string op, Tensor[] inputs, Action<Tensor, GradSink> backward)
{
    public string Op { get; } = op;
    public string BackwardName { get; } = op + ".backward";
    public Tensor[] Inputs { get; } = inputs;
    public Action<Tensor, GradSink> Backward { get; } = backward;
}
