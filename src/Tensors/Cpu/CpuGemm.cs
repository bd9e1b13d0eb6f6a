using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace PromptAD.Tensors.Cpu;

/// <summary>
/// Single-precision GEMM for the CPU backend, row-major, with cuBLAS-like transpose flags. Goto/BLIS structure:
/// op(B) is packed per (k block, n block) and op(A) per (m block, k block) into zero-padded micro-panels
/// (<see cref="GemmPack"/>), then a register-blocked micro-kernel (<see cref="GemmKernels"/>) sweeps the tiles.
/// Large products are split into a 2D grid of C blocks, one per worker, each with its own packing buffers.
/// </summary>
public static unsafe class CpuGemm
{
    // Below this many flops a product runs on the calling thread: fork/join costs a few microseconds.
    private const double ParallelFlops = 4e6;

    // Blocks of C per worker in a parallel product (load balancing), and the least work worth a block of its own.
    private const int BlocksPerThread = 4;
    private const double BlockFlops = 8e6;

    private static int s_maxThreads = Environment.ProcessorCount;

    /// <summary>Number of worker threads used (default <see cref="Environment.ProcessorCount"/>).</summary>
    public static int MaxThreads
    {
        get => s_maxThreads;
        set => s_maxThreads = Math.Max(1, value);
    }

    /// <summary>
    /// C[m,n] = alpha * op(A) * op(B) + beta * C, all row-major. op(A) is [m,k]: A is stored [m,k] with row stride
    /// lda, or, when transA, stored [k,m]. op(B) is [k,n]: B stored [k,n] (ldb) or, when transB, [n,k].
    /// beta == 0 means C is overwritten and never read.
    /// </summary>
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc) =>
        Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, GemmEpilogue.None);

    /// <summary>
    /// <see cref="Sgemm"/> with <paramref name="epilogue"/> applied to each tile of C as soon as it is final (after its
    /// last k block), by the worker that computed it, while the tile is still in cache.
    /// </summary>
    internal static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc, in GemmEpilogue epilogue)
    {
        Validate(m, n, k);
        if (m == 0 || n == 0) return;
        int threads = ThreadsFor(m, n, k);
        if (threads <= 1)
            Blocked(GemmConfig.Active, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, epilogue);
        else
            RunGrid(new GemmCall(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, epilogue), threads);
    }

    /// <summary>
    /// <see cref="Sgemm"/> on the calling thread only: for callers that already run one task per core (attention
    /// heads), where a nested fork/join would only add overhead.
    /// </summary>
    public static void SgemmSingleThreaded(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
    {
        Validate(m, n, k);
        if (m == 0 || n == 0) return;
        Blocked(GemmConfig.Active, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, GemmEpilogue.None);
    }

    /// <summary>
    /// <paramref name="batch"/> independent products; matrix i uses a + i*strideA, b + i*strideB, c + i*strideC
    /// (element strides; views may overlap on the inputs, e.g. the Q/K/V slices of one packed projection).
    /// </summary>
    public static void SgemmStridedBatched(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, long strideA, float* b, int ldb, long strideB, float beta,
        float* c, int ldc, long strideC, int batch)
    {
        Validate(m, n, k);
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        if (m == 0 || n == 0 || batch == 0) return;
        double flops = 2.0 * m * n * k;
        int threads = Math.Min(MaxThreads, batch);
        // Workers own whole matrices (no split, no duplicated packing) when that balances: always for products too
        // small to split (attention heads), else when the batch divides evenly or is long enough that a remainder
        // hardly matters. Otherwise (e.g. 3 large products on 2 threads) each product is split across the workers.
        bool acrossBatch = ThreadsFor(m, n, k) <= 1 || batch % threads == 0 || batch >= 4 * threads;
        if (threads > 1 && flops * batch >= ParallelFlops && acrossBatch)
        {
            var call = new GemmCall(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, GemmEpilogue.None);
            GemmConfig cfg = GemmConfig.Active;
            // One item at a time, dynamically, so a worker slowed by another process does not hold up the batch.
            Parallel.For(0, batch, new ParallelOptions { MaxDegreeOfParallelism = threads }, i =>
                Blocked(cfg, call.TransA, call.TransB, call.M, call.N, call.K, call.Alpha,
                    call.A + i * strideA, call.Lda, call.B + i * strideB, call.Ldb, call.Beta,
                    call.C + i * strideC, call.Ldc, GemmEpilogue.None));
            return;
        }
        for (int i = 0; i < batch; i++)
            Sgemm(transA, transB, m, n, k, alpha, a + i * strideA, lda, b + i * strideB, ldb, beta,
                c + i * strideC, ldc);
    }

    private static void Validate(int m, int n, int k)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
    }

    private static int ThreadsFor(int m, int n, int k)
    {
        double flops = 2.0 * m * n * k;
        if (MaxThreads <= 1 || flops < ParallelFlops) return 1;
        // At least ~2 Mflop per worker, or the fork/join and duplicated packing eat the gain.
        return (int)Math.Clamp(flops / (ParallelFlops / 2), 1, MaxThreads);
    }

    /// <summary>The arguments of one product, so a worker lambda captures a single object.</summary>
    private sealed class GemmCall(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc, GemmEpilogue epilogue)
    {
        public readonly bool TransA = transA, TransB = transB;
        public readonly int M = m, N = n, K = k, Lda = lda, Ldb = ldb, Ldc = ldc;
        public readonly float Alpha = alpha, Beta = beta;
        public readonly float* A = a, B = b, C = c;
        public readonly GemmEpilogue Epilogue = epilogue;
    }

    // Splits C into tm x tn blocks aligned to the micro-tile, handed out dynamically to the workers. The grid
    // minimises the largest block's work (padding included) plus its packing, so a wide C (CLIP's 226 x 2688) is
    // cut along n and each block packs all of A but only its own slice of B. There are a few blocks per worker, not
    // one: if a core is busy elsewhere, the other workers take its share instead of the whole call waiting on it.
    // The price is re-packing A once per block, a few percent with vectorised packing.
    private static void RunGrid(GemmCall call, int threads)
    {
        GemmConfig cfg = GemmConfig.Active;
        int panelsM = (call.M + cfg.Mr - 1) / cfg.Mr, panelsN = (call.N + cfg.Nr - 1) / cfg.Nr;
        double flops = 2.0 * call.M * call.N * call.K;
        int parts = (int)Math.Clamp(flops / BlockFlops, threads, threads * BlocksPerThread);
        int tm = 1, tn = 1;
        double best = double.MaxValue;
        for (int cn = 1; cn <= parts; cn++)
        {
            if (parts % cn != 0) continue;
            int cm = parts / cn;
            if (cm > panelsM || cn > panelsN) continue;
            double mt = (double)((panelsM + cm - 1) / cm) * cfg.Mr, nt = (double)((panelsN + cn - 1) / cn) * cfg.Nr;
            double cost = mt * nt + 8 * (mt + nt);
            if (cost < best) { best = cost; tm = cm; tn = cn; }
        }
        if (tm * tn <= 1)
        {
            Blocked(cfg, call.TransA, call.TransB, call.M, call.N, call.K, call.Alpha, call.A, call.Lda, call.B,
                call.Ldb, call.Beta, call.C, call.Ldc, call.Epilogue);
            return;
        }
        Parallel.For(0, tm * tn, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            int ti = t / tn, tj = t % tn;
            int i0 = Math.Min(call.M, panelsM * ti / tm * cfg.Mr), i1 = Math.Min(call.M, panelsM * (ti + 1) / tm * cfg.Mr);
            int j0 = Math.Min(call.N, panelsN * tj / tn * cfg.Nr), j1 = Math.Min(call.N, panelsN * (tj + 1) / tn * cfg.Nr);
            if (i1 <= i0 || j1 <= j0) return;
            float* a = call.TransA ? call.A + i0 : call.A + (long)i0 * call.Lda;
            float* b = call.TransB ? call.B + (long)j0 * call.Ldb : call.B + j0;
            Blocked(cfg, call.TransA, call.TransB, i1 - i0, j1 - j0, call.K, call.Alpha, a, call.Lda, b, call.Ldb,
                call.Beta, call.C + (long)i0 * call.Ldc + j0, call.Ldc, call.Epilogue.At(i0, j0));
        });
    }

    // One worker's whole product: the five Goto loops around the micro-kernel. B's block (kc x nc) is packed once
    // per k block and stays in L2/L3; A's block (mc x kc) lives in L2; one B micro-panel (kc x nr) stays in L1
    // while the kernel walks down all of A's micro-panels. The epilogue runs on each tile right after its last k block.
    private static void Blocked(GemmConfig cfg, bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc, in GemmEpilogue epilogue)
    {
        if (k == 0 || alpha == 0f)
        {
            ScaleC(m, n, beta, c, ldc);
            if (epilogue.SeedsBias) epilogue.Seed(0, m, n, c, ldc);
            if (epilogue.IsActive) epilogue.Apply(0, 0, m, n, c, ldc);
            return;
        }
        int mr = cfg.Mr, nr = cfg.Nr;
        int kc = SplitEven(k, cfg.Kc, 16), mc = SplitEven(m, cfg.Mc, mr), nc = SplitEven(n, cfg.Nc, nr);
        float* ap = PackBuffers.A((long)RoundUp(mc, mr) * kc);
        float* bp = PackBuffers.B((long)RoundUp(nc, nr) * kc);
        float* edge = PackBuffers.Edge(mr * nr);
        var kernel = cfg.Kernel;
        var half = cfg.HalfKernel;
        for (int jc = 0; jc < n; jc += nc)
        {
            int ncb = Math.Min(nc, n - jc);
            for (int pc = 0; pc < k; pc += kc)
            {
                int kcb = Math.Min(kc, k - pc);
                bool seedBias = pc == 0 && epilogue.SeedsBias;
                float betaBlock = pc == 0 && !seedBias ? beta : 1f;
                bool finalBlock = epilogue.IsActive && pc + kcb == k;
                GemmPack.PackB(transB, b, ldb, pc, kcb, jc, ncb, nr, bp);
                for (int ic = 0; ic < m; ic += mc)
                {
                    int mcb = Math.Min(mc, m - ic);
                    GemmPack.PackA(transA, a, lda, ic, mcb, pc, kcb, mr, ap);
                    for (int jr = 0; jr < ncb; jr += nr)
                    {
                        int nrb = Math.Min(nr, ncb - jr);
                        float* bPanel = bp + (long)jr * kcb;
                        // A tail panel at most half full runs the half-width kernel (same packed layout).
                        bool useHalf = half != null && nrb <= nr / 2;
                        var tileKernel = useHalf ? half : kernel;
                        int tileWidth = useHalf ? nr / 2 : nr;
                        for (int ir = 0; ir < mcb; ir += mr)
                        {
                            int mrb = Math.Min(mr, mcb - ir);
                            float* aPanel = ap + (long)ir * kcb;
                            float* cTile = c + (long)(ic + ir) * ldc + jc + jr;
                            if (seedBias) epilogue.Seed(jc + jr, mrb, nrb, cTile, ldc);
                            if (mrb == mr && nrb == tileWidth)
                            {
                                tileKernel(kcb, aPanel, bPanel, cTile, ldc, alpha, betaBlock);
                            }
                            else
                            {
                                // Edge tile: compute the full padded tile aside, then merge only the valid part.
                                tileKernel(kcb, aPanel, bPanel, edge, nr, 1f, 0f);
                                MergeEdge(mrb, nrb, edge, nr, alpha, betaBlock, cTile, ldc);
                            }
                            if (finalBlock) epilogue.Apply(ic + ir, jc + jr, mrb, nrb, cTile, ldc);
                        }
                    }
                }
            }
        }
    }

    private static void MergeEdge(int rows, int cols, float* tile, int ldt, float alpha, float beta, float* c, int ldc)
    {
        for (int i = 0; i < rows; i++)
        {
            float* t = tile + i * ldt;
            float* ci = c + (long)i * ldc;
            if (beta == 0f)
                for (int j = 0; j < cols; j++) ci[j] = alpha * t[j];
            else
                for (int j = 0; j < cols; j++) ci[j] = alpha * t[j] + beta * ci[j];
        }
    }

    private static void ScaleC(int m, int n, float beta, float* c, int ldc)
    {
        for (int i = 0; i < m; i++)
        {
            var row = new Span<float>(c + (long)i * ldc, n);
            if (beta == 0f) row.Clear();
            else if (beta != 1f)
                for (int j = 0; j < n; j++) row[j] *= beta;
        }
    }

    // Splits `total` into the fewest blocks of at most `max`, of near-equal size rounded up to `align`, so no block
    // is a sliver (896 with max 384 becomes 304 + 304 + 288 rather than 384 + 384 + 128).
    private static int SplitEven(int total, int max, int align)
    {
        if (total <= max) return total;
        int blocks = (total + max - 1) / max;
        return Math.Min(max, RoundUp((total + blocks - 1) / blocks, align));
    }

    private static int RoundUp(int x, int to) => (x + to - 1) / to * to;

    /// <summary>Per-instruction-set tile shape, cache blocking and micro-kernel.</summary>
    internal sealed class GemmConfig(int mr, int nr, int kc, int mc, int nc,
        delegate*<int, float*, float*, float*, int, float, float, void> kernel,
        delegate*<int, float*, float*, float*, int, float, float, void> halfKernel = null)
    {
        public readonly int Mr = mr, Nr = nr, Kc = kc, Mc = mc, Nc = nc;
        public readonly delegate*<int, float*, float*, float*, int, float, float, void> Kernel = kernel;

        /// <summary>Optional mr x nr/2 kernel over the same packed panels, for tail panels; null if none.</summary>
        public readonly delegate*<int, float*, float*, float*, int, float, float, void> HalfKernel = halfKernel;

        public static readonly GemmConfig Best = Pick();

        /// <summary>Lets tests exercise the narrower paths on a wide machine; per calling thread, read once per call.</summary>
        [ThreadStatic] internal static GemmConfig? t_override;

        public static GemmConfig Active => t_override ?? Best;

        // KC: one B micro-panel (kc x nr floats) plus an A micro-panel must fit the 48 KB L1d.
        // MC: A's block (mc x kc) stays in the 1 MB L2 alongside streamed B panels. NC bounds B's packed block.
        private static GemmConfig Pick()
        {
            if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported)
                return new(GemmKernels.Mr512, GemmKernels.Nr512, 256, 480, 4096, &GemmKernels.Kernel8x32,
                    &GemmKernels.Kernel8x16);
            if (Vector256.IsHardwareAccelerated && Fma.IsSupported)
                return Avx2;
            return Scalar;
        }

        internal static GemmConfig Avx2 =>
            new(GemmKernels.Mr256, GemmKernels.Nr256, 256, 240, 4096, &GemmKernels.Kernel6x16);

        internal static GemmConfig Scalar =>
            new(GemmKernels.MrScalar, GemmKernels.NrScalar, 256, 128, 1024, &GemmKernels.Kernel4x4);
    }
}
