// optimizer.cu: the SGD update and the training clock, with every per-step value read from device memory so one
// captured training step (a CUDA graph) can be replayed for every epoch unchanged. The step index lives in a float on
// the device (exact up to 2^24 steps) and is advanced by the step itself; learning rates and losses are tables indexed
// by it. All kernels are grid-stride; grid any, block 256, no shared memory.
//
// sgd_step(p, grad, buf, lrs, step, momentum, weight_decay, first, n)
//   torch.optim.SGD (dampening 0, no Nesterov) with lr = lrs[step[0]]: g = grad + wd·p; buf = first ? g : m·buf + g;
//   p = p − lr·buf; grad is overwritten with g. Every product and sum is rounded on its own (__fmul_rn/__fadd_rn:
//   no fused multiply-add), so the result is bit-identical to the CPU backend's.
// write_at_step(src, history, step, n, stride, offset)
//   history[step[0]·stride + offset + i] = src[i] for i < n (a step's losses into the loss history).
// advance_step(step)       step[0] += 1 (one thread).
#include "common.cuh"

extern "C" __global__ void sgd_step(float* p, float* grad, float* buf, const float* lrs, const float* step,
    float momentum, float weight_decay, int first, int n)
{
    const float lr = lrs[(int)step[0]];
    GRID_STRIDE(i, n)
    {
        const float g = __fadd_rn(grad[i], __fmul_rn(weight_decay, p[i]));
        const float b = first ? g : __fadd_rn(__fmul_rn(momentum, buf[i]), g);
        grad[i] = g;
        buf[i] = b;
        p[i] = __fadd_rn(p[i], __fmul_rn(-lr, b));
    }
}

extern "C" __global__ void write_at_step(const float* src, float* history, const float* step, int n, int stride, int offset)
{
    const long long base = (long long)step[0] * stride + offset;
    GRID_STRIDE(i, n) history[base + i] = src[i];
}

extern "C" __global__ void advance_step(float* step)
{
    if (blockIdx.x == 0 && threadIdx.x == 0) step[0] += 1.0f;
}
