using PromptAD.Tensors;
using K = PromptAD.Kernels.KernelCatalog;

namespace PromptAD.Kernels;

// Row softmax and softmax cross-entropy (softmax.cu, crossentropy.cu).
public sealed partial class CudaBackend
{
    private const int SoftmaxThreads = 128;

    public void SoftmaxForward(Tensor x, Tensor y, int causalSeqLen)
    {
        OpChecks.SoftmaxForward(x, y, causalSeqLen);
        RowSoftmax(OpChecks.Names.SoftmaxForward, x, y, causalSeqLen);
    }

    /// <summary>softmax_forward over x's rows into y (checked by the caller); also writes cross-entropy's probs.</summary>
    private void RowSoftmax(string op, Tensor x, Tensor y, int causalSeqLen)
    {
        int rows = x.Rows;
        if (rows == 0) return;
        Launch(K.Softmax.File, K.Softmax.Forward, RowBlocks(rows), SoftmaxThreads,
            new KernelArgs().Pointer(P(x, op)).Pointer(P(y, op)).Int(rows).Int(x.Cols).Int(causalSeqLen));
    }

    public void SoftmaxBackward(Tensor y, Tensor dy, Tensor dx)
    {
        const string op = OpChecks.Names.SoftmaxBackward;
        OpChecks.SoftmaxBackward(y, dy, dx);
        int rows = y.Rows, cols = y.Cols;
        if (rows == 0) return;
        Launch(K.Softmax.File, K.Softmax.Backward, RowBlocks(rows), SoftmaxThreads,
            new KernelArgs().Pointer(P(y, op)).Pointer(P(dy, op)).Pointer(P(dx, op)).Int(rows).Int(cols));
    }

    public void SoftmaxCrossEntropyForward(Tensor logits, ReadOnlySpan<int> targets, Tensor losses, Tensor probs)
    {
        const string op = OpChecks.Names.SoftmaxCrossEntropyForward;
        OpChecks.SoftmaxCrossEntropyForward(logits, targets, losses, probs);
        int rows = logits.Rows, cols = logits.Cols;
        if (rows == 0) return;
        ulong t = UploadIndices(targets);
        // The loss kernel does not store probabilities; the backward contract wants them, so a softmax writes them.
        Launch(K.CrossEntropy.File, K.CrossEntropy.Forward, RowBlocks(rows), SoftmaxThreads,
            new KernelArgs().Pointer(P(logits, op)).Pointer(t).Pointer(P(losses, op)).Int(rows).Int(cols));
        RowSoftmax(op, logits, probs, 0);
    }

    public void SoftmaxCrossEntropyBackward(Tensor probs, ReadOnlySpan<int> targets, Tensor dLosses, Tensor dLogits)
    {
        const string op = OpChecks.Names.SoftmaxCrossEntropyBackward;
        OpChecks.SoftmaxCrossEntropyBackward(probs, targets, dLosses, dLogits);
        int rows = probs.Rows, cols = probs.Cols;
        if (rows == 0) return;
        ulong t = UploadIndices(targets);
        Launch(K.CrossEntropy.File, K.CrossEntropy.BackwardFromProbs, Elements(probs.Length), Threads,
            new KernelArgs().Pointer(P(probs, op)).Pointer(t).Pointer(P(dLosses, op)).Pointer(P(dLogits, op)).Int(rows).Int(cols));
    }
}
