// crossentropy.cu: softmax cross-entropy over the class logits of each row (PromptAD's normal-vs-anomaly prompts).
//
// cross_entropy_forward(logits, targets, loss, rows, cols)
//   grid: (min(rows, 65535)) blocks, rows block-strided; block: multiple of 32 (128 suggested; cols is small).
//   loss[r] = logsumexp(logits[r]) - logits[r, targets[r]]; a negative target means "ignore" and gives loss 0.
//   The mean over rows is the caller's (reduce or a host sum) so ignored rows can be counted as it wishes.
// cross_entropy_backward(logits, targets, dloss, dlogits, rows, cols)
//   same launch. dlogits[r] = (softmax(logits[r]) - onehot(targets[r])) * dloss[r]; ignored rows get 0.
//   The softmax is recomputed rather than stored: cols is a handful of classes.
// cross_entropy_backward_probs(probs, targets, dloss, dlogits, rows, cols)
//   the same gradient from saved probabilities (IBackend keeps them): dlogits[r] = (probs[r] - onehot) * dloss[r];
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

extern "C" __global__ void cross_entropy_backward(const float* logits, const int* targets, const float* dloss,
                                                  float* dlogits, int rows, int cols)
{
    __shared__ float scratch[32];
    BLOCK_ROWS(row, rows)
    {
        const float* x = logits + (long long)row * cols;
        float* dx = dlogits + (long long)row * cols;
        const int target = targets[row];
        const softmax_stats st = block_softmax_stats(x, cols, 1.0f, scratch);
        const float inv = 1.0f / st.sum;
        const bool ignored = target < 0 || target >= cols;
        const float g = ignored ? 0.0f : dloss[row];
        for (int c = threadIdx.x; c < cols; c += blockDim.x)
            dx[c] = g * (expf(x[c] - st.max) * inv - (c == target ? 1.0f : 0.0f));
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
