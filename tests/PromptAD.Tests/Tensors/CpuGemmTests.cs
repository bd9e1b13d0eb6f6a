using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using PromptAD.Tensors.Cpu;

namespace PromptAD.Tests.Tensors;

/// <summary>
/// CpuGemm against a naive double-precision reference: every transpose combination, sizes that are not multiples
/// of any tile, padded leading dimensions, alpha/beta, beta = 0 over NaN, k = 0, and attention-style strided
/// batches. The error bound scales with sum |a||b| (the size of what was accumulated), not with the result.
/// </summary>
public unsafe class CpuGemmTests
{
    public enum Path { Best, Avx2, Scalar }

    public static TheoryData<bool, bool, int, int, int> Shapes()
    {
        var data = new TheoryData<bool, bool, int, int, int>();
        int[][] shapes =
        [
            [1, 1, 1], [1, 7, 17], [7, 1, 33], [17, 33, 65], [33, 65, 129], [65, 129, 7], [129, 17, 300],
            [8, 32, 16], [16, 64, 256], [9, 40, 1], [1, 300, 64], [100, 200, 520], [6, 16, 3], [13, 47, 33],
            [24, 48, 40], [9, 80, 19],
        ];
        foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
                foreach (int[] s in shapes)
                    data.Add(ta, tb, s[0], s[1], s[2]);
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MatchesReference(bool transA, bool transB, int m, int n, int k)
    {
        foreach (Path path in Paths())
            Check(path, transA, transB, m, n, k, alpha: 1f, beta: 0f, pad: 0, nanC: false);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void AlphaBetaAndPaddedLeadingDimensions(bool transA, bool transB, int m, int n, int k)
    {
        foreach (Path path in Paths())
            Check(path, transA, transB, m, n, k, alpha: 0.75f, beta: -0.5f, pad: 5, nanC: false);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void BetaZeroOverwritesNaN(bool transA, bool transB)
    {
        foreach (Path path in Paths())
        {
            Check(path, transA, transB, 37, 70, 45, alpha: 1.5f, beta: 0f, pad: 3, nanC: true);
            Check(path, transA, transB, 3, 5, 0, alpha: 1f, beta: 0f, pad: 0, nanC: true);
        }
    }

    [Fact]
    public void KZeroScalesC()
    {
        foreach (Path path in Paths())
            Check(path, false, true, 9, 33, 0, alpha: 2f, beta: 0.5f, pad: 2, nanC: false);
    }

    // Large enough to take the multi-threaded grid, several k blocks and (for m = 700) several m blocks.
    [Theory]
    [InlineData(226, 300, 896, false, true)]
    [InlineData(226, 300, 896, false, false)]
    [InlineData(700, 70, 300, true, false)]
    [InlineData(77, 1920, 64, true, true)]
    public void ParallelLargeProducts(int m, int n, int k, bool transA, bool transB)
    {
        int saved = CpuGemm.MaxThreads;
        try
        {
            foreach (int threads in new[] { 2, 3 })
            {
                CpuGemm.MaxThreads = threads;
                Check(Path.Best, transA, transB, m, n, k, alpha: 1f, beta: 0.25f, pad: 1, nanC: false);
            }
        }
        finally
        {
            CpuGemm.MaxThreads = saved;
        }
    }

    // Multi-head attention over a packed QKV projection [L, 3D]: head h's Q, K and V are column slices with row
    // stride 3D, so consecutive batch items overlap in memory. Scores = Q K^T per head, then out_h = P V_h written
    // into its column slice of an [L, D] output.
    [Theory]
    [InlineData(50, 4, 16)]
    [InlineData(226, 14, 64)]
    public void StridedBatchedAttentionLayout(int len, int heads, int dh)
    {
        int d = heads * dh, ld = 3 * d;
        float[] qkv = Random(len * ld, 7);
        float[] scores = Filled(heads * len * len, float.NaN);
        float[] outp = Filled(len * d, float.NaN);
        fixed (float* pq = qkv)
        fixed (float* ps = scores)
        fixed (float* po = outp)
        {
            CpuGemm.SgemmStridedBatched(false, true, len, len, dh, 0.125f, pq, ld, dh, pq + d, ld, dh, 0f,
                ps, len, (long)len * len, heads);
            CpuGemm.SgemmStridedBatched(false, false, len, dh, len, 1f, ps, len, (long)len * len, pq + 2 * d, ld, dh,
                0f, po, d, dh, heads);
        }
        for (int h = 0; h < heads; h++)
        {
            for (int i = 0; i < len; i++)
                for (int j = 0; j < len; j++)
                {
                    double sum = 0, mag = 0;
                    for (int p = 0; p < dh; p++)
                    {
                        double x = qkv[i * ld + h * dh + p], y = qkv[j * ld + d + h * dh + p];
                        sum += x * y;
                        mag += Math.Abs(x * y);
                    }
                    AssertClose(0.125 * sum, scores[h * len * len + i * len + j], 0.125 * mag, $"scores h{h} [{i},{j}]");
                }
            for (int i = 0; i < len; i++)
                for (int j = 0; j < dh; j++)
                {
                    double sum = 0, mag = 0;
                    for (int p = 0; p < len; p++)
                    {
                        double x = scores[h * len * len + i * len + p], y = qkv[p * ld + 2 * d + h * dh + j];
                        sum += x * y;
                        mag += Math.Abs(x * y);
                    }
                    AssertClose(sum, outp[i * d + h * dh + j], mag, $"out h{h} [{i},{j}]");
                }
        }
    }

    [Fact]
    public void BatchedLargeItemsAndBeta()
    {
        const int batch = 3, m = 130, n = 150, k = 700;
        float[] a = Random(batch * m * k, 1), b = Random(batch * k * n, 2), c = Random(batch * m * n, 3);
        float[] c0 = (float[])c.Clone();
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
            CpuGemm.SgemmStridedBatched(false, false, m, n, k, 2f, pa, k, (long)m * k, pb, n, (long)k * n, 1f,
                pc, n, (long)m * n, batch);
        for (int t = 0; t < batch; t++)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double sum = 0, mag = 0;
                    for (int p = 0; p < k; p++)
                    {
                        double x = a[t * m * k + i * k + p], y = b[t * k * n + p * n + j];
                        sum += x * y;
                        mag += Math.Abs(x * y);
                    }
                    int ci = t * m * n + i * n + j;
                    AssertClose(2 * sum + c0[ci], c[ci], 2 * mag + Math.Abs(c0[ci]), $"batch {t} [{i},{j}]");
                }
    }

    private static IEnumerable<Path> Paths()
    {
        yield return Path.Best;
        if (Vector256.IsHardwareAccelerated && Fma.IsSupported) yield return Path.Avx2;
        yield return Path.Scalar;
    }

    private static void Check(Path path, bool transA, bool transB, int m, int n, int k, float alpha, float beta,
        int pad, bool nanC)
    {
        int lda = (transA ? m : k) + pad, ldb = (transB ? k : n) + pad, ldc = n + pad;
        float[] a = Random((transA ? k : m) * lda + 1, 11 + m);
        float[] b = Random((transB ? n : k) * ldb + 1, 23 + n);
        float[] c = nanC ? Filled(m * ldc + 1, float.NaN) : Random(m * ldc + 1, 37 + k);
        float[] c0 = (float[])c.Clone();
        CpuGemm.GemmConfig.t_override = path switch
        {
            Path.Avx2 => CpuGemm.GemmConfig.Avx2,
            Path.Scalar => CpuGemm.GemmConfig.Scalar,
            _ => null,
        };
        try
        {
            fixed (float* pa = a)
            fixed (float* pb = b)
            fixed (float* pc = c)
                CpuGemm.Sgemm(transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
        }
        finally
        {
            CpuGemm.GemmConfig.t_override = null;
        }
        string what = $"{path} {(transA ? 'T' : 'N')}{(transB ? 'T' : 'N')} m={m} n={n} k={k}";
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0, mag = 0;
                for (int p = 0; p < k; p++)
                {
                    double x = transA ? a[p * lda + i] : a[i * lda + p];
                    double y = transB ? b[j * ldb + p] : b[p * ldb + j];
                    sum += x * y;
                    mag += Math.Abs(x * y);
                }
                double expected = alpha * sum, scale = Math.Abs(alpha) * mag;
                if (beta != 0f)
                {
                    expected += beta * (double)c0[i * ldc + j];
                    scale += Math.Abs(beta * (double)c0[i * ldc + j]);
                }
                AssertClose(expected, c[i * ldc + j], scale, $"{what} [{i},{j}]");
            }
            // Padding between rows of C is not part of the matrix and must be left untouched.
            for (int j = n; j < ldc && i < m - 1; j++)
                Assert.True(c[i * ldc + j].Equals(c0[i * ldc + j]), $"{what}: padding of C row {i} was written");
        }
    }

    private static void AssertClose(double expected, float actual, double scale, string what)
    {
        double tol = 1e-5 * scale + 1e-30;
        if (!(Math.Abs(expected - actual) <= tol))
            Assert.Fail($"{what}: expected {expected}, got {actual} (tolerance {tol:G3})");
    }

    private static float[] Random(int count, int seed)
    {
        var rng = new Random(seed);
        var x = new float[count];
        for (int i = 0; i < count; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        return x;
    }

    private static float[] Filled(int count, float value)
    {
        var x = new float[count];
        Array.Fill(x, value);
        return x;
    }
}
