// attention.cu: multi-head attention pieces around cuBLAS. Activations use CLIP's packed layout: qkv is [B*T, 3W]
// row-major (q | k | v, each W = H*D wide, head h at columns h*D..h*D+D-1 of its section). The GEMMs (scores = Q K^T,
// out = P V and their gradients) run as cuBLAS strided-batched GEMMs over the B*H heads of a head-major [B, H, T, D]
// layout, which the split/merge kernels below produce and undo.
//
// Layout kernels: grid-stride over B*T*W elements; grid any, block 256, no shared memory.
// qkv_split_heads(qkv, q, k, v, B, T, H, D)          q/k/v[b,h,t,d] = qkv[b*T+t, {0,W,2W} + h*D + d].
// qkv_merge_heads_backward(dq, dk, dv, dqkv, B, T, H, D)  inverse of the split (writes dqkv).
// merge_heads(o, y, B, T, H, D)                      y[b*T+t, h*D+d] = o[b,h,t,d].
// split_heads(y, o, B, T, H, D)                      o[b,h,t,d] = y[b*T+t, h*D+d] (merge_heads' backward).
//
// attention_softmax_forward(s, rows, t, scale, causal)
//   In place on scores s [rows = B*H*T, T]: s = softmax(scale * s), causal (0/1) masks columns > row mod T (written 0).
//   grid: (min(rows, 65535)), block: 128 (multiple of 32), no dynamic shared.
// attention_softmax_backward(p, d, rows, t, scale)
//   In place: d holds dP on entry and dS (gradient w.r.t. the unscaled scores) on exit:
//   dS = scale * p * (dP - sum(dP * p)). Same launch.
//
// vv_attention_forward(v, v_stride, out, out_stride, B, T, H, scale)
//   Fused CLIP-Surgery "V-V" self-attention, out = softmax(scale * V V^T) V per (batch, head), head dim fixed at 64.
//   v points at the first v element (qkv + 2W for the packed layout) with row stride v_stride floats (3W packed);
//   out[b*T+t, h*64+d] has row stride out_stride (W). Works for any T (an online softmax streams the keys through
//   shared memory in tiles of 32, so no [T, T] matrix is stored); scale is usually 1/sqrt(64).
//   grid: (ceil(T / 16), H, B), block: 128 threads (4 warps x 4 query rows), static shared ~12.5 KiB.
//
// Fused causal attention (the text tower): the [T, T] scores never reach global memory. Query rows (forward, dQ) or
// key rows (dK/dV) are split over blocks; the other side streams through shared memory in tiles of 32 rows with the
// scores recomputed per tile, so no atomics are used and the results do not depend on scheduling. Head dim D is a
// runtime parameter, 1 <= D <= 64 (each lane owns output dims lane and lane + 32); any T. Scores are scale * q.k.
// causal_attention_forward(qkv, out, lse, B, T, H, D, scale)
//   out[b*T+t, h*D+d] (row stride W = H*D) = sum_{j<=t} softmax_j(scale q_t.k_j) v_j[d]; lse[(b*H+h)*T+t] = the
//   row's log-sum-exp of its scaled scores (all the backward needs besides out).
//   grid: (ceil(T / 16), H, B), block: 128 threads (4 warps x 4 query rows), static shared ~21 KiB.
// causal_attention_backward_dq(qkv, out, dout, lse, delta, dqkv, B, T, H, D, scale)
//   Per query row t: delta[(b*H+h)*T+t] = sum_d dout_t[d] out_t[d] (written for the dK/dV kernel) and
//   dq_t = scale * sum_{j<=t} p_tj (dout_t.v_j - delta_t) k_j, p_tj = exp(scale q_t.k_j - lse_t), into the q section
//   of dqkv [B*T, 3W]. Same launch shape, static shared ~25 KiB.
// causal_attention_backward_dkv(qkv, dout, lse, delta, dqkv, B, T, H, D, scale)
//   Per key row j: dv_j = sum_{t>=j} p_tj dout_t, dk_j = scale * sum_{t>=j} p_tj (dout_t.v_j - delta_t) q_t, into the
//   k and v sections of dqkv. Runs after causal_attention_backward_dq (reads delta). Same launch, shared ~25 KiB.
#include "common.cuh"

// Offset, in a row-major [B*T, row_stride] matrix, of element i of a head-major [B, H, T, D] tensor: row b*T+t,
// column h*D+d (add W or 2W for the k and v sections of packed qkv, whose row_stride is 3W).
static __device__ __forceinline__ long long head_major_to_rows(long long i, int T, int H, int D, long long row_stride)
{
    const int d = (int)(i % D);
    const long long bht = i / D; // ((b*H)+h)*T + t
    const int t = (int)(bht % T);
    const long long bh = bht / T;
    const int h = (int)(bh % H);
    const long long b = bh / H;
    return (b * T + t) * row_stride + h * D + d;
}

// The inverse walk: offset in head-major [B, H, T, D] of element i of the row-major [B*T, H*D] activations (i indexes
// the activations, so their reads or writes are the coalesced ones).
static __device__ __forceinline__ long long rows_to_head_major(long long i, int T, int H, int D)
{
    const int W = H * D;
    const int c = (int)(i % W);
    const long long bt = i / W;
    const int t = (int)(bt % T);
    const long long b = bt / T;
    const int h = c / D, d = c % D;
    return ((b * H + h) * T + t) * D + d;
}

extern "C" __global__ void qkv_split_heads(const float* qkv, float* q, float* k, float* v, int B, int T, int H, int D)
{
    const int W = H * D;
    GRID_STRIDE(i, (long long)B * T * W)
    {
        const float* src = qkv + head_major_to_rows(i, T, H, D, 3LL * W);
        q[i] = src[0];
        k[i] = src[W];
        v[i] = src[2 * W];
    }
}

extern "C" __global__ void qkv_merge_heads_backward(const float* dq, const float* dk, const float* dv, float* dqkv,
                                                    int B, int T, int H, int D)
{
    const int W = H * D;
    GRID_STRIDE(i, (long long)B * T * W)
    {
        float* dst = dqkv + head_major_to_rows(i, T, H, D, 3LL * W);
        dst[0] = dq[i];
        dst[W] = dk[i];
        dst[2 * W] = dv[i];
    }
}

extern "C" __global__ void merge_heads(const float* o, float* y, int B, int T, int H, int D)
{
    const int W = H * D;
    GRID_STRIDE(i, (long long)B * T * W)
    {
        // i indexes y, so the writes are coalesced.
        y[i] = o[rows_to_head_major(i, T, H, D)];
    }
}

extern "C" __global__ void split_heads(const float* y, float* o, int B, int T, int H, int D)
{
    const int W = H * D;
    GRID_STRIDE(i, (long long)B * T * W)
    {
        o[rows_to_head_major(i, T, H, D)] = y[i];
    }
}

extern "C" __global__ void attention_softmax_forward(float* s, int rows, int t, float scale, int causal)
{
    __shared__ float scratch[32];
    BLOCK_ROWS(row, rows)
    {
        float* sr = s + (long long)row * t;
        const int visible = causal ? (row % t) + 1 : t;
        const softmax_stats st = block_softmax_stats(sr, visible, scale, scratch);
        const float inv = 1.0f / st.sum;
        // Each thread rewrites only the entries it read, so in-place is safe.
        for (int c = threadIdx.x; c < t; c += blockDim.x) sr[c] = c < visible ? expf(scale * sr[c] - st.max) * inv : 0.0f;
    }
}

extern "C" __global__ void attention_softmax_backward(const float* p, float* d, int rows, int t, float scale)
{
    __shared__ float scratch[32];
    BLOCK_ROWS(row, rows)
    {
        const float* pr = p + (long long)row * t;
        float* dr = d + (long long)row * t;
        const float s = block_dot(pr, dr, t, scratch);
        for (int c = threadIdx.x; c < t; c += blockDim.x) dr[c] = scale * pr[c] * (dr[c] - s);
    }
}

// One key tile's step of an online softmax for the query row a warp holds: lane j's score s (NEG_INF where masked,
// with visible false) joins the running max m and denominator l, and the tile's values vt[j * ld + d] join the two
// output dims each lane accumulates (d = lane and lane + 32). m starts at -inf, so the first correction is 0.
static __device__ __forceinline__ void online_softmax_tile(float s, bool visible, const float* vt, int ld,
                                                           float& m, float& l, float& acc0, float& acc1)
{
    const int lane = threadIdx.x & 31;
    const float mNew = fmaxf(m, warp_max(s));
    const float p = visible ? expf(s - mNew) : 0.0f;
    const float correction = expf(m - mNew);
    l = l * correction + warp_sum(p);
    float a0 = acc0 * correction, a1 = acc1 * correction;
    for (int j = 0; j < 32; ++j)
    {
        const float pj = __shfl_sync(FULL_MASK, p, j);
        a0 += pj * vt[j * ld + lane];
        a1 += pj * vt[j * ld + lane + 32];
    }
    acc0 = a0;
    acc1 = a1;
    m = mNew;
}

#define VV_D 64          // head dim handled by the fused kernel
#define VV_KEYS 32       // keys per shared-memory tile (one per lane)
#define VV_WARPS 4
#define VV_ROWS_PER_WARP 4
#define VV_QROWS (VV_WARPS * VV_ROWS_PER_WARP)

extern "C" __global__ void vv_attention_forward(const float* v, int v_stride, float* out, int out_stride,
                                                int B, int T, int H, float scale)
{
    // +1 padding: lane j reads kv[j][d], so rows must fall in different banks.
    __shared__ float kv[VV_KEYS][VV_D + 1];
    __shared__ float qs[VV_QROWS][VV_D];
    const int h = blockIdx.y, b = blockIdx.z;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int q0 = blockIdx.x * VV_QROWS;
    const float* vb = v + (long long)b * T * v_stride + h * VV_D;

    for (int i = threadIdx.x; i < VV_QROWS * VV_D; i += blockDim.x)
    {
        const int r = i / VV_D, d = i % VV_D;
        qs[r][d] = q0 + r < T ? vb[(long long)(q0 + r) * v_stride + d] : 0.0f;
    }

    // Online softmax state per query row: running max m, running denominator l, two output dims per lane.
    float m[VV_ROWS_PER_WARP], l[VV_ROWS_PER_WARP], acc0[VV_ROWS_PER_WARP], acc1[VV_ROWS_PER_WARP];
#pragma unroll
    for (int r = 0; r < VV_ROWS_PER_WARP; ++r) { m[r] = NEG_INF; l[r] = 0.0f; acc0[r] = 0.0f; acc1[r] = 0.0f; }

    for (int k0 = 0; k0 < T; k0 += VV_KEYS)
    {
        __syncthreads(); // previous tile fully consumed (and qs written on the first pass)
        for (int i = threadIdx.x; i < VV_KEYS * VV_D; i += blockDim.x)
        {
            const int r = i / VV_D, d = i % VV_D;
            kv[r][d] = k0 + r < T ? vb[(long long)(k0 + r) * v_stride + d] : 0.0f;
        }
        __syncthreads();
        const bool valid = k0 + lane < T;
        // Fully unrolled so the per-row state stays in registers instead of local memory.
#pragma unroll
        for (int r = 0; r < VV_ROWS_PER_WARP; ++r)
        {
            const float* q = qs[warp * VV_ROWS_PER_WARP + r];
            float dot = 0.0f;
            for (int d = 0; d < VV_D; ++d) dot += q[d] * kv[lane][d];
            online_softmax_tile(valid ? dot * scale : NEG_INF, valid, &kv[0][0], VV_D + 1, m[r], l[r], acc0[r], acc1[r]);
        }
    }

#pragma unroll
    for (int r = 0; r < VV_ROWS_PER_WARP; ++r)
    {
        const int t = q0 + warp * VV_ROWS_PER_WARP + r;
        if (t >= T) continue;
        float* o = out + ((long long)b * T + t) * out_stride + h * VV_D;
        const float inv = 1.0f / l[r];
        o[lane] = acc0[r] * inv;
        o[lane + 32] = acc1[r] * inv;
    }
}

#define CA_MAX_D 64       // largest head dim of the fused causal kernels (two output dims per lane)
#define CA_TILE 32        // rows per shared-memory tile of the streamed side (one per lane)
#define CA_WARPS 4
#define CA_ROWS_PER_WARP 4
#define CA_ROWS (CA_WARPS * CA_ROWS_PER_WARP) // query (or key) rows owned by one block

// Loads rows [r0, r0 + rows) of one head's section (columns col..col+D of a [*, stride] matrix) into tile[rows][ld],
// zero-filling rows past T and columns past D so every shared value read is defined.
static __device__ __forceinline__ void ca_load_rows(float* tile, int ld, int rows, const float* section, long long stride,
                                                     int r0, int T, int D)
{
    for (int i = threadIdx.x; i < rows * CA_MAX_D; i += blockDim.x)
    {
        const int r = i / CA_MAX_D, d = i % CA_MAX_D;
        tile[r * ld + d] = r0 + r < T && d < D ? section[(long long)(r0 + r) * stride + d] : 0.0f;
    }
}

extern "C" __global__ void causal_attention_forward(const float* qkv, float* out, float* lse, int B, int T, int H, int D,
                                                    float scale)
{
    // +1 padding: lane j reads ks[j][d], so rows must fall in different banks.
    __shared__ float ks[CA_TILE][CA_MAX_D + 1];
    __shared__ float vs[CA_TILE][CA_MAX_D + 1];
    __shared__ float qs[CA_ROWS][CA_MAX_D];
    const int h = blockIdx.y, b = blockIdx.z;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int W = H * D;
    const long long stride = 3LL * W;
    const int q0 = blockIdx.x * CA_ROWS;
    const float* base = qkv + (long long)b * T * stride + h * D;

    ca_load_rows(&qs[0][0], CA_MAX_D, CA_ROWS, base, stride, q0, T, D);

    // Online softmax per query row: running max m, denominator l, two output dims per lane.
    float m[CA_ROWS_PER_WARP], l[CA_ROWS_PER_WARP], acc0[CA_ROWS_PER_WARP], acc1[CA_ROWS_PER_WARP];
#pragma unroll
    for (int r = 0; r < CA_ROWS_PER_WARP; ++r) { m[r] = NEG_INF; l[r] = 0.0f; acc0[r] = 0.0f; acc1[r] = 0.0f; }

    // Causal: no row of this block sees a key past its last row. Every tile starts at or before q0 (a multiple of 32
    // at most q0 + 15, with q0 a multiple of 16), so each row has at least one visible key per tile and m stays finite.
    const int keyEnd = min(T, q0 + CA_ROWS);
    for (int k0 = 0; k0 < keyEnd; k0 += CA_TILE)
    {
        __syncthreads(); // previous tile consumed (and qs written on the first pass)
        ca_load_rows(&ks[0][0], CA_MAX_D + 1, CA_TILE, base + W, stride, k0, T, D);
        ca_load_rows(&vs[0][0], CA_MAX_D + 1, CA_TILE, base + 2 * W, stride, k0, T, D);
        __syncthreads();
        const int key = k0 + lane;
#pragma unroll
        for (int r = 0; r < CA_ROWS_PER_WARP; ++r)
        {
            const int row = warp * CA_ROWS_PER_WARP + r, t = q0 + row;
            float dot = 0.0f;
            for (int d = 0; d < D; ++d) dot += qs[row][d] * ks[lane][d];
            const bool visible = key <= t && key < T; // rows past T (padding) see the real keys, so nothing is NaN
            online_softmax_tile(visible ? dot * scale : NEG_INF, visible, &vs[0][0], CA_MAX_D + 1, m[r], l[r], acc0[r], acc1[r]);
        }
    }

#pragma unroll
    for (int r = 0; r < CA_ROWS_PER_WARP; ++r)
    {
        const int t = q0 + warp * CA_ROWS_PER_WARP + r;
        if (t >= T) continue;
        float* o = out + ((long long)b * T + t) * W + h * D;
        const float inv = 1.0f / l[r];
        if (lane < D) o[lane] = acc0[r] * inv;
        if (lane + 32 < D) o[lane + 32] = acc1[r] * inv;
        if (lane == 0) lse[((long long)b * H + h) * T + t] = m[r] + logf(l[r]);
    }
}

extern "C" __global__ void causal_attention_backward_dq(const float* qkv, const float* out, const float* dout,
                                                        const float* lse, float* delta, float* dqkv,
                                                        int B, int T, int H, int D, float scale)
{
    __shared__ float ks[CA_TILE][CA_MAX_D + 1];
    __shared__ float vs[CA_TILE][CA_MAX_D + 1];
    __shared__ float qs[CA_ROWS][CA_MAX_D];
    __shared__ float dos[CA_ROWS][CA_MAX_D];
    const int h = blockIdx.y, b = blockIdx.z;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int W = H * D;
    const long long stride = 3LL * W;
    const int q0 = blockIdx.x * CA_ROWS;
    const float* base = qkv + (long long)b * T * stride + h * D;
    const long long rowStats = ((long long)b * H + h) * T;

    ca_load_rows(&qs[0][0], CA_MAX_D, CA_ROWS, base, stride, q0, T, D);
    ca_load_rows(&dos[0][0], CA_MAX_D, CA_ROWS, dout + (long long)b * T * W + h * D, W, q0, T, D);

    float rowLse[CA_ROWS_PER_WARP], rowDelta[CA_ROWS_PER_WARP], g0[CA_ROWS_PER_WARP], g1[CA_ROWS_PER_WARP];
#pragma unroll
    for (int r = 0; r < CA_ROWS_PER_WARP; ++r)
    {
        const int t = q0 + warp * CA_ROWS_PER_WARP + r;
        float od = 0.0f;
        if (t < T)
        {
            const float* o = out + ((long long)b * T + t) * W + h * D;
            const float* g = dout + ((long long)b * T + t) * W + h * D;
            if (lane < D) od += o[lane] * g[lane];
            if (lane + 32 < D) od += o[lane + 32] * g[lane + 32];
        }
        rowDelta[r] = warp_sum(od);
        rowLse[r] = t < T ? lse[rowStats + t] : 0.0f;
        if (t < T && lane == 0) delta[rowStats + t] = rowDelta[r];
        g0[r] = 0.0f;
        g1[r] = 0.0f;
    }

    const int keyEnd = min(T, q0 + CA_ROWS);
    for (int k0 = 0; k0 < keyEnd; k0 += CA_TILE)
    {
        __syncthreads();
        ca_load_rows(&ks[0][0], CA_MAX_D + 1, CA_TILE, base + W, stride, k0, T, D);
        ca_load_rows(&vs[0][0], CA_MAX_D + 1, CA_TILE, base + 2 * W, stride, k0, T, D);
        __syncthreads();
        const int key = k0 + lane;
#pragma unroll
        for (int r = 0; r < CA_ROWS_PER_WARP; ++r)
        {
            const int row = warp * CA_ROWS_PER_WARP + r, t = q0 + row;
            float qk = 0.0f, dv = 0.0f;
            for (int d = 0; d < D; ++d)
            {
                qk += qs[row][d] * ks[lane][d];
                dv += dos[row][d] * vs[lane][d];
            }
            const bool visible = key <= t && t < T;
            const float ds = visible ? expf(qk * scale - rowLse[r]) * (dv - rowDelta[r]) : 0.0f;
            float a0 = g0[r], a1 = g1[r];
            for (int j = 0; j < CA_TILE; ++j)
            {
                const float dsj = __shfl_sync(FULL_MASK, ds, j);
                a0 += dsj * ks[j][lane];
                a1 += dsj * ks[j][lane + 32];
            }
            g0[r] = a0;
            g1[r] = a1;
        }
    }

#pragma unroll
    for (int r = 0; r < CA_ROWS_PER_WARP; ++r)
    {
        const int t = q0 + warp * CA_ROWS_PER_WARP + r;
        if (t >= T) continue;
        float* dq = dqkv + ((long long)b * T + t) * stride + h * D;
        if (lane < D) dq[lane] = scale * g0[r];
        if (lane + 32 < D) dq[lane + 32] = scale * g1[r];
    }
}

extern "C" __global__ void causal_attention_backward_dkv(const float* qkv, const float* dout, const float* lse,
                                                         const float* delta, float* dqkv, int B, int T, int H, int D,
                                                         float scale)
{
    __shared__ float qs[CA_TILE][CA_MAX_D + 1];
    __shared__ float dos[CA_TILE][CA_MAX_D + 1];
    __shared__ float ks[CA_ROWS][CA_MAX_D];
    __shared__ float vs[CA_ROWS][CA_MAX_D];
    __shared__ float lses[CA_TILE], deltas[CA_TILE];
    const int h = blockIdx.y, b = blockIdx.z;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int W = H * D;
    const long long stride = 3LL * W;
    const int j0 = blockIdx.x * CA_ROWS;
    const float* base = qkv + (long long)b * T * stride + h * D;
    const float* doutBase = dout + (long long)b * T * W + h * D;
    const long long rowStats = ((long long)b * H + h) * T;

    ca_load_rows(&ks[0][0], CA_MAX_D, CA_ROWS, base + W, stride, j0, T, D);
    ca_load_rows(&vs[0][0], CA_MAX_D, CA_ROWS, base + 2 * W, stride, j0, T, D);

    float dk0[CA_ROWS_PER_WARP], dk1[CA_ROWS_PER_WARP], dv0[CA_ROWS_PER_WARP], dv1[CA_ROWS_PER_WARP];
#pragma unroll
    for (int r = 0; r < CA_ROWS_PER_WARP; ++r) { dk0[r] = 0.0f; dk1[r] = 0.0f; dv0[r] = 0.0f; dv1[r] = 0.0f; }

    // Causal: key j is seen by queries t >= j only, so query tiles start at the tile holding j0.
    for (int i0 = j0 / CA_TILE * CA_TILE; i0 < T; i0 += CA_TILE)
    {
        __syncthreads();
        ca_load_rows(&qs[0][0], CA_MAX_D + 1, CA_TILE, base, stride, i0, T, D);
        ca_load_rows(&dos[0][0], CA_MAX_D + 1, CA_TILE, doutBase, W, i0, T, D);
        if (threadIdx.x < CA_TILE)
        {
            const int t = i0 + threadIdx.x;
            lses[threadIdx.x] = t < T ? lse[rowStats + t] : 0.0f;
            deltas[threadIdx.x] = t < T ? delta[rowStats + t] : 0.0f;
        }
        __syncthreads();
        const int t = i0 + lane;
#pragma unroll
        for (int r = 0; r < CA_ROWS_PER_WARP; ++r)
        {
            const int row = warp * CA_ROWS_PER_WARP + r, j = j0 + row;
            float qk = 0.0f, dv = 0.0f;
            for (int d = 0; d < D; ++d)
            {
                qk += qs[lane][d] * ks[row][d];
                dv += dos[lane][d] * vs[row][d];
            }
            const bool visible = t >= j && t < T && j < T;
            const float p = visible ? expf(qk * scale - lses[lane]) : 0.0f;
            const float ds = p * (dv - deltas[lane]);
            float k0a = dk0[r], k1a = dk1[r], v0a = dv0[r], v1a = dv1[r];
            for (int x = 0; x < CA_TILE; ++x)
            {
                const float px = __shfl_sync(FULL_MASK, p, x), dsx = __shfl_sync(FULL_MASK, ds, x);
                v0a += px * dos[x][lane];
                v1a += px * dos[x][lane + 32];
                k0a += dsx * qs[x][lane];
                k1a += dsx * qs[x][lane + 32];
            }
            dk0[r] = k0a;
            dk1[r] = k1a;
            dv0[r] = v0a;
            dv1[r] = v1a;
        }
    }

#pragma unroll
    for (int r = 0; r < CA_ROWS_PER_WARP; ++r)
    {
        const int j = j0 + warp * CA_ROWS_PER_WARP + r;
        if (j >= T) continue;
        float* dk = dqkv + ((long long)b * T + j) * stride + W + h * D;
        float* dvOut = dk + W;
        if (lane < D) { dk[lane] = scale * dk0[r]; dvOut[lane] = dv0[r]; }
        if (lane + 32 < D) { dk[lane + 32] = scale * dk1[r]; dvOut[lane + 32] = dv1[r]; }
    }
}
