// elementwise.cu: small elementwise ops. Every kernel is grid-stride over its element count; launch with any grid
// (e.g. min(ceil(n/256), 65535)), block 256, no shared memory. Outputs may alias inputs of the same shape.
//
// bias_add(x, bias, y, rows, cols)        y[r,c] = x[r,c] + bias[c] (bias broadcast over rows; n = rows*cols).
// bias_residual_forward(h, bias, residual, y, rows, cols)
//                                         y[r,c] = residual[r,c] + (h[r,c] + bias[c]): the epilogue of a linear layer
//                                         whose GEMM wrote h = x W^T without bias, followed by the residual add.
// axpby(a, b, y, alpha, beta, n)          y = alpha * a + beta * b (y may alias a or b; residual add, scaling).
// relu_forward(x, y, n)                   y = max(x, 0).
// relu_backward(x, dy, dx, n)             dx = x > 0 ? dy : 0.
// sqdist_rows_forward(a, b, d, rows, cols, b_stride)
//   d[r] = sum_c (a[r,c] - b[r*b_stride + c])^2; b_stride = cols for row-by-row, 0 to broadcast one row of b.
//   grid: (min(rows, 65535)) blocks, block: multiple of 32 (256); one block per row.
// sqdist_rows_backward(a, b, dd, da, db, rows, cols, b_stride)
//   da = 2 (a - b) dd[r]; db = -da. Either output may be 0 (null). With b_stride = 0, db is accumulated atomically
//   into the single row (zero it first). Grid-stride over rows*cols, block 256.
#include "common.cuh"

extern "C" __global__ void bias_add(const float* x, const float* bias, float* y, int rows, int cols)
{
    GRID_STRIDE(i, (long long)rows * cols) y[i] = x[i] + bias[i % cols];
}

extern "C" __global__ void bias_residual_forward(const float* h, const float* bias, const float* residual, float* y,
                                                 int rows, int cols)
{
    GRID_STRIDE(i, (long long)rows * cols) y[i] = residual[i] + (h[i] + bias[i % cols]);
}

extern "C" __global__ void axpby(const float* a, const float* b, float* y, float alpha, float beta, int n)
{
    GRID_STRIDE(i, n) y[i] = alpha * a[i] + beta * b[i];
}

extern "C" __global__ void relu_forward(const float* x, float* y, int n)
{
    GRID_STRIDE(i, n) y[i] = fmaxf(x[i], 0.0f);
}

extern "C" __global__ void relu_backward(const float* x, const float* dy, float* dx, int n)
{
    GRID_STRIDE(i, n) dx[i] = x[i] > 0.0f ? dy[i] : 0.0f;
}

extern "C" __global__ void sqdist_rows_forward(const float* a, const float* b, float* d, int rows, int cols, int b_stride)
{
    __shared__ float scratch[32];
    BLOCK_ROWS(row, rows)
    {
        const float* ar = a + (long long)row * cols;
        const float* br = b + (long long)row * b_stride;
        float s = 0.0f;
        for (int c = threadIdx.x; c < cols; c += blockDim.x)
        {
            const float diff = ar[c] - br[c];
            s += diff * diff;
        }
        s = block_sum(s, scratch);
        if (threadIdx.x == 0) d[row] = s;
    }
}

extern "C" __global__ void sqdist_rows_backward(const float* a, const float* b, const float* dd, float* da, float* db,
                                                int rows, int cols, int b_stride)
{
    GRID_STRIDE(i, (long long)rows * cols)
    {
        const long long row = i / cols;
        const int c = (int)(i - row * cols);
        const long long bi = row * b_stride + c;
        const float g = 2.0f * (a[i] - b[bi]) * dd[row];
        if (da) da[i] = g;
        if (db)
        {
            if (b_stride == 0) atomicAdd(db + c, -g);
            else db[bi] = -g;
        }
    }
}
