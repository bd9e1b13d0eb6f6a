// nearest.cu: memory-bank nearest neighbour for PromptAD's vision-guided scores. For each query row q (pre-normalized
// [Q, D]) find the bank row (pre-normalized [N, D]) with the largest dot product; the distance is (1 - cos) / 2.
// The bank can hold ~1e6 patch features, so no [Q, N] matrix is ever stored: a register-tiled SGEMM-like kernel keeps
// a running best per query while it streams bank tiles through shared memory, then a second kernel reduces the
// per-chunk winners.
//
// nearest_partial(query, bank, best_dot, best_idx, Q, N, D, chunk_rows)
//   grid: (ceil(Q / 64), chunks) with chunks = ceil(N / chunk_rows); block: (16, 16) = 256 threads; static shared
//   8.5 KiB. Block (x, y) scans bank rows [y*chunk_rows, min(N, (y+1)*chunk_rows)) for queries [64x, 64x+64) and
//   writes best_dot[y*Q + q] (max dot, -inf if the chunk is empty) and best_idx[y*Q + q] (bank row, -1 if none).
//   chunk_rows should be a multiple of 64; pick chunks so the grid has a few blocks per SM (e.g. 4*SMs/ceil(Q/64)).
// nearest_reduce(best_dot, best_idx, chunks, Q, dist, index)
//   grid-stride over Q, block 256. dist[q] = max(0, (1 - max_c best_dot[c*Q + q]) / 2); index[q] = the winning bank
//   row (index may be 0/null). Ties go to the lowest bank row, so results do not depend on the chunking.
#include "common.cuh"

#define NN_TQ 64   // queries per block
#define NN_TB 64   // bank rows per tile
#define NN_TK 16   // depth of one shared-memory step

extern "C" __global__ void nearest_partial(const float* query, const float* bank, float* best_dot, int* best_idx,
                                           int Q, int N, int D, int chunk_rows)
{
    __shared__ float qs[NN_TK][NN_TQ + 1];
    __shared__ float bs[NN_TK][NN_TB + 1];
    const int tx = threadIdx.x, ty = threadIdx.y, tid = ty * 16 + tx;
    const int q0 = blockIdx.x * NN_TQ;
    const long long begin = (long long)blockIdx.y * chunk_rows;
    const long long end = begin + chunk_rows < N ? begin + chunk_rows : N;

    // Thread (tx, ty) owns queries q0 + ty + 16 i and bank columns tx + 16 j of each tile (strided, so shared reads
    // are broadcast or conflict-free).
    float best[4];
    int bestIdx[4];
    for (int i = 0; i < 4; ++i) { best[i] = NEG_INF; bestIdx[i] = -1; }

    for (long long b0 = begin; b0 < end; b0 += NN_TB)
    {
        float acc[4][4];
        for (int i = 0; i < 4; ++i)
            for (int j = 0; j < 4; ++j) acc[i][j] = 0.0f;

        for (int k0 = 0; k0 < D; k0 += NN_TK)
        {
            __syncthreads();
            for (int e = tid; e < NN_TQ * NN_TK; e += 256)
            {
                const int r = e / NN_TK, k = e % NN_TK;
                const bool kin = k0 + k < D;
                qs[k][r] = kin && q0 + r < Q ? query[(long long)(q0 + r) * D + k0 + k] : 0.0f;
                bs[k][r] = kin && b0 + r < end ? bank[(b0 + r) * D + k0 + k] : 0.0f;
            }
            __syncthreads();
#pragma unroll
            for (int k = 0; k < NN_TK; ++k)
            {
                float qv[4], bv[4];
                for (int i = 0; i < 4; ++i) qv[i] = qs[k][ty + 16 * i];
                for (int j = 0; j < 4; ++j) bv[j] = bs[k][tx + 16 * j];
                for (int i = 0; i < 4; ++i)
                    for (int j = 0; j < 4; ++j) acc[i][j] += qv[i] * bv[j];
            }
        }

        // Columns are visited in increasing bank order and only a strictly larger dot replaces the best, so each
        // thread keeps the lowest index among ties.
        for (int j = 0; j < 4; ++j)
        {
            const long long row = b0 + tx + 16 * j;
            if (row >= end) continue;
            for (int i = 0; i < 4; ++i)
                if (acc[i][j] > best[i]) { best[i] = acc[i][j]; bestIdx[i] = (int)row; }
        }
    }

    // Reduce across the 16 threads (same ty, consecutive lanes) that share a query.
    for (int i = 0; i < 4; ++i)
    {
        float v = best[i];
        int idx = bestIdx[i];
        for (int offset = 8; offset > 0; offset >>= 1)
        {
            const float ov = __shfl_xor_sync(FULL_MASK, v, offset);
            const int oi = __shfl_xor_sync(FULL_MASK, idx, offset);
            if (ov > v || (ov == v && oi >= 0 && (idx < 0 || oi < idx))) { v = ov; idx = oi; }
        }
        const int q = q0 + ty + 16 * i;
        if (tx == 0 && q < Q)
        {
            best_dot[(long long)blockIdx.y * Q + q] = v;
            best_idx[(long long)blockIdx.y * Q + q] = idx;
        }
    }
}

extern "C" __global__ void nearest_reduce(const float* best_dot, const int* best_idx, int chunks, int Q, float* dist, int* index)
{
    GRID_STRIDE(q, Q)
    {
        float v = NEG_INF;
        int idx = -1;
        for (int c = 0; c < chunks; ++c)
        {
            const float cv = best_dot[(long long)c * Q + q];
            const int ci = best_idx[(long long)c * Q + q];
            // Chunks cover increasing bank ranges, so on a tie the earlier chunk already holds the lower index.
            if (ci >= 0 && cv > v) { v = cv; idx = ci; }
        }
        dist[q] = fmaxf(0.0f, (1.0f - v) * 0.5f);
        if (index) index[q] = idx;
    }
}
