using PromptAD.Tensors;
using K = PromptAD.Kernels.KernelCatalog;

namespace PromptAD.Kernels;

// Row softmax and softmax cross-entropy (softmax.cu, crossentropy.cu).
public sealed partial class CudaBackend
{
    private const int SoftmaxThreads = 128;

    public void SoftmaxForward(Tensor x, Tensor y, int causalSeqLen)
    {
        const string op = "softmax_forward";
        int rows = x.Rows, cols = x.Cols;
        Require.SameLength(x, y, op, "x", "y");
        if (causalSeqLen < 0) throw new ArgumentOutOfRangeException(nameof(causalSeqLen));
        if (rows == 0) return;
        Launch(K.Softmax.File, K.Softmax.Forward, RowBlocks(rows), SoftmaxThreads,
            new KernelArgs().Pointer(P(x, op)).Pointer(P(y, op)).Int(rows).Int(cols).Int(causalSeqLen));
    }

    public void SoftmaxBackward(Tensor y, Tensor dy, Tensor dx)
    {
        const string op = "softmax_backward";
        int rows = y.Rows, cols = y.Cols;
        Require.SameLength(y, dy, op, "y", "dy");
        Require.SameLength(y, dx, op, "y", "dx");
        if (rows == 0) return;
        Launch(K.Softmax.File, K.Softmax.Backward, RowBlocks(rows), SoftmaxThreads,
            new KernelArgs().Pointer(P(y, op)).Pointer(P(dy, op)).Pointer(P(dx, op)).Int(rows).Int(cols));
    }

    public void SoftmaxCrossEntropyForward(Tensor logits, ReadOnlySpan<int> targets, Tensor losses, Tensor probs)
    {
        const string op = "softmax_crossentropy_forward";
        int rows = logits.Rows, cols = logits.Cols;
        if (targets.Length != rows) throw new ArgumentException($"{op}: {targets.Length} targets for {rows} rows");
        Require.Indices(targets, cols, op);
        Require.Length(losses, rows, op, "losses");
        Require.SameLength(logits, probs, op, "logits", "probs");
        if (rows == 0) return;
        ulong t = UploadIndices(targets);
        // The loss kernel does not store probabilities; the backward contract wants them, so a softmax writes them.
        Launch(K.CrossEntropy.File, K.CrossEntropy.Forward, RowBlocks(rows), SoftmaxThreads,
            new KernelArgs().Pointer(P(logits, op)).Pointer(t).Pointer(P(losses, op)).Int(rows).Int(cols));
        Launch(K.Softmax.File, K.Softmax.Forward, RowBlocks(rows), SoftmaxThreads,
            new KernelArgs().Pointer(P(logits, op)).Pointer(P(probs, op)).Int(rows).Int(cols).Int(0));
    }

    public void SoftmaxCrossEntropyBackward(Tensor probs, ReadOnlySpan<int> targets, Tensor dLosses, Tensor dLogits)
    {
        const string op = "softmax_crossentropy_backward";
        int rows = probs.Rows, cols = probs.Cols;
        if (targets.Length != rows) throw new ArgumentException($"{op}: {targets.Length} targets for {rows} rows");
        Require.Indices(targets, cols, op);
        Require.Length(dLosses, rows, op, "dlosses");
        Require.SameLength(probs, dLogits, op, "probs", "dlogits");
        if (rows == 0) return;
        ulong t = UploadIndices(targets);
        Launch(K.CrossEntropy.File, K.CrossEntropy.BackwardFromProbs, Elements(probs.Length), Threads,
            new KernelArgs().Pointer(P(probs, op)).Pointer(t).Pointer(P(dLosses, op)).Pointer(P(dLogits, op)).Int(rows).Int(cols));
    }
}
