// crossentropy.cu: softmax cross-entropy over the class logits of each row (PromptAD's normal-vs-anomaly prompts).
//
// cross_entropy_forward(logits, targets, loss, rows, cols)
//   grid: (min(rows, 65535)) blocks, rows block-strided; block: multiple of 32 (128 suggested; cols is small).
//   loss[r] = logsumexp(logits[r]) - logits[r, targets[r]]; a negative target means "ignore" and gives loss 0.
//   The mean over rows is the caller's (reduce or a host sum) so ignored rows can be counted as it wishes.
// cross_entropy_backward_probs(probs, targets, dloss, dlogits, rows, cols)
//   the gradient from the probabilities the forward saved: dlogits[r] = (probs[r] - onehot(targets[r])) * dloss[r];
//   ignored rows get 0. Grid-stride over rows*cols, block 256.
#include "common.cuh"

extern "C" __global__ void cross_entropy_forward(const float* logits, const int* targets, float* loss, int rows, int cols)
{
    __shared__ float scratch[32];
    BLOCK_ROWS(row, rows)
    {
        const float* x = logits + (long long)row * cols;
        const int target = targets[row];
        const softmax_stats st = block_softmax_stats(x, cols, 1.0f, scratch);
        if (threadIdx.x == 0) loss[row] = target >= 0 && target < cols ? logf(st.sum) + st.max - x[target] : 0.0f;
    }
}

extern "C" __global__ void cross_entropy_backward_probs(const float* probs, const int* targets, const float* dloss,
                                                        float* dlogits, int rows, int cols)
{
    GRID_STRIDE(i, (long long)rows * cols)
    {
        const long long row = i / cols;
        const int c = (int)(i - row * cols);
        const int target = targets[row];
        const bool ignored = target < 0 || target >= cols;
        dlogits[i] = ignored ? 0.0f : dloss[row] * (probs[i] - (c == target ? 1.0f : 0.0f));
    }
}
