using PromptAD.Tensors;

namespace PromptAD.Kernels;

/// <summary>
/// The GPU backend: every <see cref="IBackend"/> op as launches of our kernels (kernels/*.cu) plus GEMMs, on an
/// <see cref="IDeviceRuntime"/> — the CUDA driver for real, or the CPU emulation in tests. Ops are split by family into
/// partial files (CudaBackend.*.cs). Memory comes from a caching pool (<see cref="Memory"/>) and host index arrays
/// are kept on the device by content (<see cref="DeviceIndexCache"/>), so a repeated step uploads and allocates nothing.
/// </summary>
public sealed unsafe partial class CudaBackend : IBackend
{
    private const int Threads = 256;
    private readonly DeviceIndexCache indices;

    public CudaBackend(IDeviceRuntime runtime, bool ownsRuntime = true)
    {
        Runtime = runtime;
        OwnsRuntime = ownsRuntime;
        Memory = new DeviceMemoryPool(runtime);
        indices = new DeviceIndexCache(runtime, Memory);
    }

    public IDeviceRuntime Runtime { get; }

    /// <summary>Where every tensor, temporary and index buffer of this backend comes from.</summary>
    public DeviceMemoryPool Memory { get; }

    private bool OwnsRuntime { get; }

    public string Name => Runtime.Name == "cuda" ? "cuda" : $"cuda-{Runtime.Name}";

    /// <summary>A backend on the real GPU, or false with the reason (no driver, no device, no NVRTC/cuBLAS).</summary>
    public static bool TryCreate(out CudaBackend? backend, out string reason, GemmPrecision precision = GemmPrecision.Fp32)
    {
        try
        {
            backend = new CudaBackend(new CudaRuntime(precision: precision));
            NvtxTraceSink.TryInstall(); // named op/stage ranges in Nsight traces (NVTX3 injection, else libnvToolsExt)
            reason = "";
            return true;
        }
        catch (Exception e) when (e is CudaException or CublasException or NvrtcException or Native.CudaLibraryNotFoundException
                                   or DllNotFoundException or EntryPointNotFoundException)
        {
            backend = null;
            reason = e.Message.Split('\n')[0];
            return false;
        }
    }

    public Storage Allocate(long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        return new CudaStorage(this, Memory, length);
    }

    /// <summary>Device address of a tensor's first element; checks it belongs to this backend and is alive.</summary>
    internal ulong P(Tensor t, string op)
    {
        Require.Backend(this, t, op);
        var s = (CudaStorage)t.Storage;
        if (s.IsDisposed) throw new ObjectDisposedException($"{op}: {t}");
        return s.Pointer + (ulong)t.Offset * sizeof(float);
    }

    public void Upload(ReadOnlySpan<float> source, Tensor destination)
    {
        OpChecks.Upload(source, destination);
        fixed (float* s = source) Runtime.CopyHtoD(Written(destination, OpChecks.Names.Upload), s, (ulong)source.Length * sizeof(float));
    }

    public void Download(Tensor source, Span<float> destination)
    {
        OpChecks.Download(source, destination);
        fixed (float* d = destination) Runtime.CopyDtoH(d, P(source, OpChecks.Names.Download), (ulong)destination.Length * sizeof(float));
    }

    public void Copy(Tensor source, Tensor destination)
    {
        OpChecks.Copy(source, destination);
        Runtime.CopyDtoD(Written(destination, OpChecks.Names.Copy), P(source, OpChecks.Names.Copy), (ulong)source.Length * sizeof(float));
    }

    public void Fill(Tensor destination, float value) =>
        Runtime.Memset32(Written(destination, "fill"), BitConverter.SingleToUInt32Bits(value), (ulong)destination.Length);

    public void Synchronize() => Runtime.Synchronize();

    public void Gemm(bool transA, bool transB, int m, int n, int k, float alpha,
        Tensor a, long aOffset, int lda, long strideA,
        Tensor b, long bOffset, int ldb, long strideB, float beta,
        Tensor c, long cOffset, int ldc, long strideC, int batch)
    {
        GemmBounds.Check(transA, transB, m, n, k, a, aOffset, lda, strideA, b, bOffset, ldb, strideB, c, cOffset, ldc, strideC, batch);
        if (batch == 0 || m == 0 || n == 0) return;
        DeviceGemm(transA, transB, m, n, k, alpha,
            P(a, "gemm") + (ulong)aOffset * sizeof(float), lda, strideA,
            P(b, "gemm") + (ulong)bOffset * sizeof(float), ldb, strideB, beta,
            Written(c, "gemm") + (ulong)cOffset * sizeof(float), ldc, strideC, batch,
            k == 0 ? 0 : Bf16Operand(a, aOffset), k == 0 ? 0 : Bf16Operand(b, bOffset));
    }

    /// <summary>Launch shape of grid-stride kernels over <paramref name="n"/> elements.</summary>
    private static Dim3 Elements(long n) => Dim3.Blocks(n, Threads);

    /// <summary>Launch shape of one-block-per-row kernels (rows are block-strided past 65535).</summary>
    private static Dim3 RowBlocks(int rows) => (uint)Math.Clamp(rows, 1, 65535);

    private void Launch(string file, string kernel, Dim3 grid, Dim3 block, in KernelArgs args) =>
        Runtime.Launch(file, kernel, grid, block, 0, args);

    /// <summary>The device copy of host indices (uploaded on first use of these contents).</summary>
    private ulong UploadIndices(ReadOnlySpan<int> values) => indices.Get(values);

    /// <summary>Temporary device memory for one op's intermediates, freed by <see cref="DeviceTemp.Dispose"/>.</summary>
    private DeviceTemp Temp(long floats) => new(Memory, Memory.Rent((ulong)Math.Max(1, floats) * sizeof(float)));

    private readonly struct DeviceTemp(DeviceMemoryPool pool, ulong pointer) : IDisposable
    {
        public ulong Pointer { get; } = pointer;

        public void Dispose() => pool.Return(Pointer);
    }

    /// <summary>
    /// Several temporary arrays of one op (sizes in floats): one block split in order, or, when the pool hands out exact
    /// sizes (<see cref="DeviceMemoryPool.Exact"/>: strict memory, or the pool off for compute-sanitizer), one block each,
    /// so an overrun of one array reaches its own end instead of its neighbour.
    /// </summary>
    private DeviceTemps Temps(params ReadOnlySpan<long> floats)
    {
        var pointers = new ulong[floats.Length];
        if (Memory.Exact)
        {
            for (int i = 0; i < floats.Length; i++) pointers[i] = Memory.Rent((ulong)Math.Max(1, floats[i]) * sizeof(float));
            return new(Memory, pointers, split: false);
        }
        long total = 0;
        foreach (long f in floats) total += f;
        ulong at = Memory.Rent((ulong)Math.Max(1, total) * sizeof(float));
        for (int i = 0; i < floats.Length; i++)
        {
            pointers[i] = at;
            at += (ulong)floats[i] * sizeof(float);
        }
        return new(Memory, pointers, split: true);
    }

    private readonly struct DeviceTemps(DeviceMemoryPool pool, ulong[] pointers, bool split) : IDisposable
    {
        public ulong this[int i] => pointers[i];

        public void Dispose()
        {
            if (split) pool.Return(pointers[0]);
            else foreach (ulong p in pointers) pool.Return(p);
        }
    }

    public void Dispose()
    {
        indices.Dispose();
        FreeReadSlab();
        Memory.Dispose();
        if (OwnsRuntime) Runtime.Dispose();
    }
}
