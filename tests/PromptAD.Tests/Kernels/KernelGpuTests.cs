using PromptAD.Kernels;
using PromptAD.Kernels.Native;
using PromptAD.Tests.Requirements;

namespace PromptAD.Tests.Kernels;

/// <summary>
/// Runs a few kernels on a real GPU against small CPU references. Skipped where there is no driver or device (CI and
/// most dev boxes; PROMPTAD_REQUIRE_GPU=1 makes that a failure); run on a GPU machine to validate the kernels numerically.
/// </summary>
public sealed class KernelGpuTests : IDisposable
{
    private readonly CudaContext ctx;
    private readonly CudaStream stream;
    private readonly KernelCompiler compiler;
    private readonly List<IDisposable> owned = [];

    public KernelGpuTests()
    {
        try
        {
            ctx = CudaContext.Create();
        }
        catch (Exception e) when (e is CudaLibraryNotFoundException or CudaException)
        {
            OptionalPart.CudaGpu.Unavailable(e.Message.Split('\n')[0]);
        }
        stream = new CudaStream(ctx);
        compiler = new KernelCompiler(); // after the GPU check: without a GPU these tests skip even if NVRTC is missing
    }

    public void Dispose()
    {
        foreach (IDisposable d in owned) d.Dispose();
        stream?.Dispose();
        ctx?.Dispose();
    }

    [Fact]
    public void LayerNormMatchesReference()
    {
        const int rows = 5, cols = 768;
        float[] x = Random(rows * cols, 1), gamma = Random(cols, 2), beta = Random(cols, 3), dy = Random(rows * cols, 4);
        DeviceBuffer dx = Up(x), dg = Up(gamma), db = Up(beta), ddy = Up(dy), y = Zeros(rows * cols), mean = Zeros(rows),
            rstd = Zeros(rows), dxo = Zeros(rows * cols);
        KernelModule m = Module(KernelCatalog.LayerNorm.File);
        m.Launch(KernelCatalog.LayerNorm.Forward, rows, 256, 0, stream, new KernelArgs().Pointer(dx.Pointer).Pointer(dg.Pointer)
            .Pointer(db.Pointer).Pointer(y.Pointer).Pointer(mean.Pointer).Pointer(rstd.Pointer).Int(rows).Int(cols).Float(1e-5f));
        m.Launch(KernelCatalog.LayerNorm.Backward, rows, 256, 0, stream, new KernelArgs().Pointer(ddy.Pointer).Pointer(dx.Pointer)
            .Pointer(dg.Pointer).Pointer(mean.Pointer).Pointer(rstd.Pointer).Pointer(dxo.Pointer).Int(rows).Int(cols));
        float[] gotY = Down(y, rows * cols), gotDx = Down(dxo, rows * cols);
        for (int r = 0; r < rows; r++)
        {
            var xr = x.AsSpan(r * cols, cols);
            double mu = 0, v = 0;
            foreach (float f in xr) mu += f;
            mu /= cols;
            foreach (float f in xr) v += (f - mu) * (f - mu);
            double rs = 1 / Math.Sqrt(v / cols + 1e-5);
            double mg = 0, mgx = 0;
            for (int c = 0; c < cols; c++)
            {
                double g = dy[r * cols + c] * gamma[c], xh = (xr[c] - mu) * rs;
                mg += g / cols;
                mgx += g * xh / cols;
                Near((xh * gamma[c]) + beta[c], gotY[r * cols + c], 1e-4);
            }
            for (int c = 0; c < cols; c++)
            {
                double xh = (xr[c] - mu) * rs;
                Near(rs * (dy[r * cols + c] * gamma[c] - mg - xh * mgx), gotDx[r * cols + c], 1e-3);
            }
        }
    }

    [Fact]
    public void CausalSoftmaxMasksTheFuture()
    {
        const int t = 7, rows = 2 * t;
        float[] x = Random(rows * t, 5);
        DeviceBuffer dx = Up(x), y = Zeros(rows * t);
        Module(KernelCatalog.Softmax.File).Launch(KernelCatalog.Softmax.Forward, rows, 128, 0, stream,
            new KernelArgs().Pointer(dx.Pointer).Pointer(y.Pointer).Int(rows).Int(t).Int(t));
        float[] got = Down(y, rows * t);
        for (int r = 0; r < rows; r++)
        {
            int visible = r % t + 1;
            double max = x.Skip(r * t).Take(visible).Max(), sum = x.Skip(r * t).Take(visible).Sum(v => Math.Exp(v - max));
            for (int c = 0; c < t; c++) Near(c < visible ? Math.Exp(x[r * t + c] - max) / sum : 0, got[r * t + c], 1e-5);
        }
    }

    [Fact]
    public void VvAttentionMatchesReference()
    {
        const int b = 2, t = 50, h = 2, d = 64, w = h * d;
        float[] qkv = Random(b * t * 3 * w, 6);
        DeviceBuffer dq = Up(qkv), o = Zeros(b * t * w);
        float scale = 1 / MathF.Sqrt(d);
        Module(KernelCatalog.Attention.File).Launch(KernelCatalog.Attention.VvForward, new Dim3((t + 15) / 16, h, b), 128, 0, stream,
            new KernelArgs().Pointer(dq.Pointer + 2 * w * 4).Int(3 * w).Pointer(o.Pointer).Int(w).Int(b).Int(t).Int(h).Float(scale));
        float[] got = Down(o, b * t * w);
        double V(int bb, int tt, int hh, int dd) => qkv[(bb * t + tt) * 3 * w + 2 * w + hh * d + dd];
        for (int bb = 0; bb < b; bb++)
            for (int hh = 0; hh < h; hh++)
                for (int i = 0; i < t; i++)
                {
                    var s = new double[t];
                    for (int j = 0; j < t; j++)
                        for (int dd = 0; dd < d; dd++) s[j] += V(bb, i, hh, dd) * V(bb, j, hh, dd) * scale;
                    double max = s.Max(), sum = s.Sum(v => Math.Exp(v - max));
                    for (int dd = 0; dd < d; dd++)
                    {
                        double acc = 0;
                        for (int j = 0; j < t; j++) acc += Math.Exp(s[j] - max) / sum * V(bb, j, hh, dd);
                        Near(acc, got[(bb * t + i) * w + hh * d + dd], 1e-4);
                    }
                }
    }

    [Fact]
    public void NearestMatchesBruteForce()
    {
        const int q = 100, n = 1000, d = 96, chunkRows = 128;
        float[] query = Normalized(Random(q * d, 7), d), bank = Normalized(Random(n * d, 8), d);
        int chunks = (n + chunkRows - 1) / chunkRows;
        DeviceBuffer dq = Up(query), dbk = Up(bank), bestDot = Zeros(chunks * q), bestIdx = Zeros(chunks * q), dist = Zeros(q), idx = Zeros(q);
        KernelModule m = Module(KernelCatalog.Nearest.File);
        m.Launch(KernelCatalog.Nearest.Partial, new Dim3((q + 63) / 64, (uint)chunks), new Dim3(16, 16), 0, stream,
            new KernelArgs().Pointer(dq.Pointer).Pointer(dbk.Pointer).Pointer(bestDot.Pointer).Pointer(bestIdx.Pointer)
                .Int(q).Int(n).Int(d).Int(chunkRows));
        m.Launch(KernelCatalog.Nearest.Reduce, 1, 256, 0, stream, new KernelArgs().Pointer(bestDot.Pointer).Pointer(bestIdx.Pointer)
            .Int(chunks).Int(q).Pointer(dist.Pointer).Pointer(idx.Pointer));
        float[] gotDist = Down(dist, q);
        int[] gotIdx = new int[q];
        idx.CopyTo<int>(gotIdx, stream);
        stream.Synchronize();
        for (int i = 0; i < q; i++)
        {
            double best = double.NegativeInfinity;
            int arg = -1;
            for (int j = 0; j < n; j++)
            {
                double dot = 0;
                for (int k = 0; k < d; k++) dot += query[i * d + k] * bank[j * d + k];
                if (dot > best) { best = dot; arg = j; }
            }
            Near(Math.Max(0, (1 - best) / 2), gotDist[i], 1e-5);
            Assert.Equal(arg, gotIdx[i]);
        }
    }

    [Fact]
    public void BilinearUpsampleMatchesPyTorchFormula()
    {
        const int c = 2, h = 7, w = 5, oh = 16, ow = 11;
        float[] x = Random(c * h * w, 9);
        DeviceBuffer dx = Up(x), y = Zeros(c * oh * ow);
        Module(KernelCatalog.Upsample.File).Launch(KernelCatalog.Upsample.Bilinear, 8, 256, 0, stream,
            new KernelArgs().Pointer(dx.Pointer).Pointer(y.Pointer).Int(c).Int(h).Int(w).Int(oh).Int(ow));
        float[] got = Down(y, c * oh * ow);
        for (int ch = 0; ch < c; ch++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                {
                    double fy = Math.Max((oy + 0.5) * h / oh - 0.5, 0), fx = Math.Max((ox + 0.5) * w / ow - 0.5, 0);
                    int y0 = (int)fy, x0 = (int)fx, y1 = Math.Min(y0 + 1, h - 1), x1 = Math.Min(x0 + 1, w - 1);
                    double ly = fy - y0, lx = fx - x0;
                    double P(int yy, int xx) => x[ch * h * w + yy * w + xx];
                    double want = (1 - ly) * ((1 - lx) * P(y0, x0) + lx * P(y0, x1)) + ly * ((1 - lx) * P(y1, x0) + lx * P(y1, x1));
                    Near(want, got[(ch * oh + oy) * ow + ox], 1e-5);
                }
    }

    [Fact]
    public unsafe void CublasSgemmMultiplies()
    {
        using var blas = new CublasHandle(ctx, stream);
        // Row-major C[2,3] = A[2,4] B[4,3] is column-major C^T = B^T A^T: swap the operands.
        float[] a = Random(8, 10), b = Random(12, 11);
        DeviceBuffer da = Up(a), dbb = Up(b), dc = Zeros(6);
        float alpha = 1, beta = 0;
        CublasException.Check(Cublas.cublasSgemm_v2(blas.Handle, CublasOperation.N, CublasOperation.N, 3, 2, 4, &alpha,
            dbb.Pointer, 3, da.Pointer, 4, &beta, dc.Pointer, 3), "cublasSgemm_v2");
        float[] got = Down(dc, 6);
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 3; j++)
            {
                double want = 0;
                for (int k = 0; k < 4; k++) want += a[i * 4 + k] * b[k * 3 + j];
                Near(want, got[i * 3 + j], 1e-5);
            }
    }

    private KernelModule Module(string file)
    {
        var m = new KernelModule(ctx, compiler, file);
        owned.Add(m);
        return m;
    }

    private DeviceBuffer Up(float[] data)
    {
        var buffer = new DeviceBuffer(ctx, (ulong)data.Length * 4);
        owned.Add(buffer);
        buffer.CopyFrom<float>(data, stream);
        return buffer;
    }

    private DeviceBuffer Zeros(int count)
    {
        var buffer = new DeviceBuffer(ctx, (ulong)count * 4);
        owned.Add(buffer);
        buffer.Fill32(0, (ulong)count, stream);
        return buffer;
    }

    private float[] Down(DeviceBuffer buffer, int count)
    {
        var result = new float[count];
        buffer.CopyTo<float>(result, stream);
        stream.Synchronize();
        return result;
    }

    private static float[] Random(int count, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
    }

    private static float[] Normalized(float[] x, int cols)
    {
        for (int r = 0; r < x.Length / cols; r++)
        {
            var row = x.AsSpan(r * cols, cols);
            float n = MathF.Sqrt(row.ToArray().Sum(v => v * v));
            foreach (ref float v in row) v /= n;
        }
        return x;
    }

    private static void Near(double want, float got, double tol) =>
        Assert.True(Math.Abs(want - got) <= tol * Math.Max(1, Math.Abs(want)), $"want {want}, got {got}");
}
