namespace PromptAD.Tensors.Cpu;

/// <summary>
/// The CPU backend: multi-threaded, AVX-512 where available, and the reference every other backend is tested
/// against. Ops are split by family into partial files (CpuBackend.*.cs).
/// </summary>
public sealed unsafe partial class CpuBackend : IBackend
{
    /// <summary>One shared instance: the CPU backend holds no state beyond its thread settings.</summary>
    public static CpuBackend Instance { get; } = new();

    public string Name => "cpu";

    public Storage Allocate(long length)
    {
        if (length < 0) throw new ArgumentOutOfRangeException(nameof(length));
        return new CpuStorage(this, length);
    }

    /// <summary>
    /// A frozen tensor over host memory that something else owns and keeps alive longer than the tensor (a weights file's
    /// mapping): no copy. Writes into it are refused; <paramref name="address"/> must hold at least the shape's floats,
    /// 4-byte aligned.
    /// </summary>
    public Tensor Borrow(IntPtr address, int[] shape)
    {
        if (address % sizeof(float) != 0) throw new ArgumentException($"host address {address:X} is not aligned to a float", nameof(address));
        return Tensor.Over(new CpuStorage(this, (float*)address, Tensors.Shape.Elements(shape)), shape);
    }

    /// <summary>Pointer to a tensor's first element; checks it belongs to this backend and is alive.</summary>
    internal float* P(Tensor t, string op)
    {
        Require.Backend(this, t, op);
        return ((CpuStorage)t.Storage).Pointer + t.Offset;
    }

    /// <summary>A CPU tensor's elements as a span (host memory, valid while the tensor's storage lives).</summary>
    public static Span<float> Span(Tensor t)
    {
        if (t.Storage is not CpuStorage s) throw new ArgumentException($"{t} is not a CPU tensor");
        if (s.IsDisposed) throw new ObjectDisposedException(t.ToString());
        return new Span<float>(s.Pointer + t.Offset, checked((int)t.Length));
    }

    public void Upload(ReadOnlySpan<float> source, Tensor destination)
    {
        OpChecks.Upload(source, destination);
        RefuseBorrowed(destination, OpChecks.Names.Upload);
        fixed (float* s = source) Simd.Copy(s, P(destination, OpChecks.Names.Upload), source.Length);
    }

    public void Download(Tensor source, Span<float> destination)
    {
        OpChecks.Download(source, destination);
        fixed (float* d = destination) Simd.Copy(P(source, OpChecks.Names.Download), d, destination.Length);
    }

    public void Copy(Tensor source, Tensor destination)
    {
        OpChecks.Copy(source, destination);
        RefuseBorrowed(destination, OpChecks.Names.Copy);
        Simd.Copy(P(source, OpChecks.Names.Copy), P(destination, OpChecks.Names.Copy), source.Length);
    }

    public void Fill(Tensor destination, float value)
    {
        RefuseBorrowed(destination, "fill");
        new Span<float>(P(destination, "fill"), checked((int)destination.Length)).Fill(value);
    }

    // Borrowed memory may be a read-only file mapping, where a write would crash the process.
    private static void RefuseBorrowed(Tensor t, string op)
    {
        if (t.Storage is CpuStorage { IsBorrowed: true })
            throw new InvalidOperationException($"{op}: {t} lies in a read-only weights file mapping (model weights are read-only)");
    }

    public void Synchronize() { }

    public PendingRead ReadLater(ReadOnlySpan<Tensor> sources) => CompletedRead.Now(sources);

    public void Gemm(bool transA, bool transB, int m, int n, int k, float alpha,
        Tensor a, long aOffset, int lda, long strideA,
        Tensor b, long bOffset, int ldb, long strideB, float beta,
        Tensor c, long cOffset, int ldc, long strideC, int batch)
    {
        GemmBounds.Check(transA, transB, m, n, k, a, aOffset, lda, strideA, b, bOffset, ldb, strideB, c, cOffset, ldc, strideC, batch);
        if (batch == 0 || m == 0 || n == 0) return;
        CpuGemm.SgemmStridedBatched(transA, transB, m, n, k, alpha,
            P(a, "gemm") + aOffset, lda, strideA, P(b, "gemm") + bOffset, ldb, strideB, beta,
            P(c, "gemm") + cOffset, ldc, strideC, batch);
    }

    public void Dispose() { }
}
