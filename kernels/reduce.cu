// reduce.cu: reductions over the rows of a row-major [rows, cols] matrix (bias gradients, mean pooling, averaging
// prompt embeddings) and the broadcast that is their backward.
//
// sum_rows(x, y, rows, cols, scale, accumulate)
//   y[c] = scale * sum_r x[r,c] (+ y[c] when accumulate != 0). scale = 1/rows gives the mean.
//   grid: (ceil(cols / 32)), block: (32, 8) = 256 threads; static shared 1 KiB. Threads in x own consecutive columns
//   (coalesced reads); the 8 rows of threads split the rows and are summed through shared memory. Deterministic.
// broadcast_rows(v, y, rows, cols, scale)
//   y[r,c] = scale * v[c]. Grid-stride over rows*cols, block 256.
#include "common.cuh"

extern "C" __global__ void sum_rows(const float* x, float* y, int rows, int cols, float scale, int accumulate)
{
    __shared__ float partial[8][33];
    const int c = blockIdx.x * 32 + threadIdx.x;
    float s = 0.0f;
    if (c < cols)
        for (int r = threadIdx.y; r < rows; r += blockDim.y) s += x[(long long)r * cols + c];
    partial[threadIdx.y][threadIdx.x] = s;
    __syncthreads();
    if (threadIdx.y == 0 && c < cols)
    {
        float total = 0.0f;
        for (int k = 0; k < (int)blockDim.y; ++k) total += partial[k][threadIdx.x];
        y[c] = scale * total + (accumulate ? y[c] : 0.0f);
    }
}

extern "C" __global__ void broadcast_rows(const float* v, float* y, int rows, int cols, float scale)
{
    GRID_STRIDE(i, (long long)rows * cols) y[i] = scale * v[i % cols];
}
