using PromptAD.Kernels.Native;

namespace PromptAD.Kernels;

/// <summary>
/// The real device: one primary context, one non-blocking stream shared by copies, kernels and cuBLAS (so everything is
/// stream-ordered), kernel modules compiled by NVRTC on first use. Every launch checks its error code;
/// PROMPTAD_CUDA_SYNC=1 also synchronizes after each launch so a faulting kernel is named in the exception.
/// </summary>
public sealed unsafe class CudaRuntime : IDeviceRuntime
{
    private readonly CudaContext context;
    private readonly CudaStream stream;
    private readonly CublasHandle cublas;
    private readonly KernelCompiler compiler;
    private readonly Dictionary<string, KernelModule> modules = new(StringComparer.Ordinal);
    private bool disposed;
    private readonly bool syncEachLaunch = Environment.GetEnvironmentVariable("PROMPTAD_CUDA_SYNC") == "1";

    /// <param name="precision">How GEMMs treat their inputs (<see cref="GemmPrecision"/>): TF32 sets cuBLAS' TF32 tensor-op
    /// math mode; FP32 (the default) keeps FP32-exact products.</param>
    public CudaRuntime(int device = 0, GemmPrecision precision = GemmPrecision.Fp32)
    {
        Precision = precision;
        context = CudaContext.Create(device);
        try
        {
            stream = new CudaStream(context);
            cublas = new CublasHandle(context, stream, precision == GemmPrecision.Tf32 ? CublasMath.Tf32TensorOp : CublasMath.Default);
            compiler = new KernelCompiler();
        }
        catch
        {
            cublas?.Dispose();
            stream?.Dispose();
            context.Dispose();
            throw;
        }
        DeviceName = context.DeviceName;
    }

    public string Name => "cuda";

    public DeviceCounters Counters { get; } = new();

    /// <summary>The ops queued last, named in the exception of an asynchronous fault.</summary>
    public LaunchHistory History { get; } = new();

    /// <summary>Runs a call at which an earlier asynchronous fault may surface, naming the ops queued before it.</summary>
    private void Surfacing(Action call)
    {
        History.ThrowPending();
        try { call(); }
        catch (CudaException e) when (e.Result != CUresult.NotReady) { throw History.Named(e); }
    }

    /// <summary>
    /// Theoretical peaks for benchmark ratios: DRAM bandwidth = 2 (double data rate) × memory clock × bus width, and
    /// FP32 FMA throughput = SMs × 128 lanes × 2 flops × core clock (128 FP32 lanes per SM on sm_80+ consumer and
    /// Hopper parts; an approximation elsewhere). The driver reports clocks in kHz.
    /// </summary>
    public (double BandwidthGBs, double Fp32Tflops) Peaks()
    {
        double memKhz = context.GetAttribute(CUdeviceAttribute.MemoryClockRate);
        double busBits = context.GetAttribute(CUdeviceAttribute.GlobalMemoryBusWidth);
        double coreKhz = context.GetAttribute(CUdeviceAttribute.ClockRate);
        double sms = context.MultiprocessorCount;
        return (2 * memKhz * 1e3 * busBits / 8 / 1e9, sms * 128 * 2 * coreKhz * 1e3 / 1e12);
    }

    public string DeviceName { get; }

    public ulong Allocate(ulong bytes)
    {
        MakeCurrent();
        Counters.Allocation();
        CudaException.Check(CudaDriver.cuMemAlloc_v2(out ulong p, (nuint)Math.Max(bytes, 4)), "cuMemAlloc_v2");
        return p;
    }

    public void Free(ulong pointer)
    {
        MakeCurrent();
        Counters.Free();
        // cuMemFree synchronizes, so an earlier kernel's fault can surface here: keep it for the next synchronization
        // (this may run on the finalizer thread, where throwing would end the process) rather than dropping it.
        CUresult r = CudaDriver.cuMemFree_v2(pointer);
        if (r != CUresult.Success) History.Defer(new CudaException("cuMemFree_v2", r));
    }

    public void CopyHtoD(ulong destination, void* source, ulong bytes)
    {
        if (bytes == 0) return;
        MakeCurrent();
        Counters.HostToDevice(bytes);
        // Pageable source: the driver stages it before returning, so the caller may reuse it at once.
        CudaException.Check(CudaDriver.cuMemcpyHtoDAsync_v2(destination, source, (nuint)bytes, stream.Handle), "cuMemcpyHtoDAsync_v2");
    }

    public void CopyDtoH(void* destination, ulong source, ulong bytes)
    {
        if (bytes == 0) return;
        MakeCurrent();
        Counters.DeviceToHost(bytes);
        Counters.Synchronization();
        CudaException.Check(CudaDriver.cuMemcpyDtoHAsync_v2(destination, source, (nuint)bytes, stream.Handle), "cuMemcpyDtoHAsync_v2");
        Surfacing(stream.Synchronize);
    }

    public void CopyDtoD(ulong destination, ulong source, ulong bytes)
    {
        if (bytes == 0 || destination == source) return;
        MakeCurrent();
        Counters.DeviceToDevice();
        CudaException.Check(CudaDriver.cuMemcpyDtoDAsync_v2(destination, source, (nuint)bytes, stream.Handle), "cuMemcpyDtoDAsync_v2");
    }

    public void Memset32(ulong destination, uint value, ulong count)
    {
        if (count == 0) return;
        MakeCurrent();
        Counters.Memset();
        CudaException.Check(CudaDriver.cuMemsetD32Async(destination, value, (nuint)count, stream.Handle), "cuMemsetD32Async");
    }

    public void Launch(string kernelFile, string kernelName, Dim3 grid, Dim3 block, uint sharedBytes, in KernelArgs args)
    {
        MakeCurrent();
        Counters.KernelLaunch();
        History.Record(kernelName);
        if (!modules.TryGetValue(kernelFile, out KernelModule? module))
            modules[kernelFile] = module = new KernelModule(context, compiler, kernelFile);
        module.Launch(kernelName, grid, block, sharedBytes, stream, args);
        if (syncEachLaunch)
        {
            try { stream.Synchronize(); }
            catch (CudaException e) { throw new InvalidOperationException($"kernel {kernelName} ({kernelFile}) failed: {e.Message}", e); }
        }
    }

    public void Gemm(bool transA, bool transB, int m, int n, int k, float alpha, ulong a, int lda, long strideA,
        ulong b, int ldb, long strideB, float beta, ulong c, int ldc, long strideC, int batch)
    {
        if (!StartGemm("gemm", m, n, k, batch)) return;
        // cuBLAS is column-major and a row-major matrix is its transpose there: C^T = op(B)^T op(A)^T, so pass B
        // first with the sizes swapped. k = 0 still scales C by beta, as the row-major contract asks.
        if (Precision == GemmPrecision.Tf32)
        {
            // TF32 forced, not merely allowed: the math mode alone lets cuBLAS pick an FP32 kernel for some shapes,
            // while the compute type CUBLAS_COMPUTE_32F_FAST_TF32 makes every GEMM round its inputs to TF32.
            GemmEx(transA, transB, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta, c, ldc, strideC, batch,
                CudaDataType.R32F, CublasComputeType.Compute32FFastTf32, "cublasGemmStridedBatchedEx (TF32)");
            return;
        }
        CublasException.Check(Cublas.cublasSgemmStridedBatched(cublas.Handle,
            transB ? CublasOperation.T : CublasOperation.N, transA ? CublasOperation.T : CublasOperation.N,
            n, m, k, &alpha, b, Math.Max(ldb, 1), strideB, a, Math.Max(lda, 1), strideA, &beta, c, Math.Max(ldc, 1), strideC, batch),
            "cublasSgemmStridedBatched");
        if (syncEachLaunch) stream.Synchronize();
    }

    public GemmPrecision Precision { get; }

    /// <summary>False for an empty GEMM (no call); otherwise counts and records it for fault reports.</summary>
    private bool StartGemm(string kind, int m, int n, int k, int batch)
    {
        if (m == 0 || n == 0 || batch == 0) return false;
        MakeCurrent();
        Counters.Gemm();
        History.Record($"{kind} {m}x{n}x{k}" + (batch > 1 ? $" x{batch}" : ""));
        return true;
    }

    public void GemmBf16(bool transA, bool transB, int m, int n, int k, float alpha, ulong a, int lda, long strideA,
        ulong b, int ldb, long strideB, float beta, ulong c, int ldc, long strideC, int batch)
    {
        if (!StartGemm("gemm bf16", m, n, k, batch)) return;
        GemmEx(transA, transB, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta, c, ldc, strideC, batch,
            CudaDataType.R16BF, CublasComputeType.Compute32F, "cublasGemmStridedBatchedEx");
    }

    /// <summary>cublasGemmStridedBatchedEx, column-major as in <see cref="Gemm"/> (B first, sizes swapped): A and B of
    /// <paramref name="inputType"/>, C in FP32, accumulated as <paramref name="compute"/> says.</summary>
    private void GemmEx(bool transA, bool transB, int m, int n, int k, float alpha, ulong a, int lda, long strideA,
        ulong b, int ldb, long strideB, float beta, ulong c, int ldc, long strideC, int batch,
        CudaDataType inputType, CublasComputeType compute, string call)
    {
        CublasException.Check(Cublas.cublasGemmStridedBatchedEx(cublas.Handle,
            transB ? CublasOperation.T : CublasOperation.N, transA ? CublasOperation.T : CublasOperation.N,
            n, m, k, &alpha, b, inputType, Math.Max(ldb, 1), strideB, a, inputType, Math.Max(lda, 1), strideA,
            &beta, c, CudaDataType.R32F, Math.Max(ldc, 1), strideC, batch, compute, CublasGemmAlgo.Default), call);
        if (syncEachLaunch) stream.Synchronize();
    }

    public void* AllocateHost(ulong bytes)
    {
        MakeCurrent();
        Counters.Allocation();
        void* p;
        CudaException.Check(CudaDriver.cuMemAllocHost_v2(&p, (nuint)Math.Max(bytes, 4)), "cuMemAllocHost_v2");
        return p;
    }

    public void FreeHost(void* pointer)
    {
        MakeCurrent();
        Counters.Free();
        CudaException.Check(CudaDriver.cuMemFreeHost(pointer), "cuMemFreeHost");
    }

    public void CopyDtoHAsync(void* pinnedDestination, ulong source, ulong bytes)
    {
        if (bytes == 0) return;
        MakeCurrent();
        Counters.DeviceToHost(bytes);
        CudaException.Check(CudaDriver.cuMemcpyDtoHAsync_v2(pinnedDestination, source, (nuint)bytes, stream.Handle), "cuMemcpyDtoHAsync_v2");
    }

    // Fences are events; released ones are reused, so a steady loop creates none.
    private readonly Dictionary<ulong, CudaEvent> fences = [];
    private readonly Stack<CudaEvent> idleEvents = new();
    private ulong nextFence;

    public ulong RecordFence()
    {
        MakeCurrent();
        var e = idleEvents.Count > 0 ? idleEvents.Pop() : new CudaEvent(context, CudaEvent.DisableTiming);
        e.Record(stream);
        fences[++nextFence] = e;
        return nextFence;
    }

    public bool FenceReached(ulong fence)
    {
        MakeCurrent();
        CUresult r = CudaDriver.cuEventQuery(fences[fence].Handle);
        if (r == CUresult.NotReady) return false;
        if (r != CUresult.Success) throw History.Named(new CudaException("cuEventQuery", r));
        return true;
    }

    public void WaitFence(ulong fence)
    {
        MakeCurrent();
        Counters.Synchronization();
        Surfacing(fences[fence].Synchronize);
    }

    public void ReleaseFence(ulong fence)
    {
        if (fences.Remove(fence, out var e)) idleEvents.Push(e);
    }

    public void Synchronize()
    {
        MakeCurrent();
        Counters.Synchronization();
        Surfacing(stream.Synchronize);
    }

    // After Dispose the primary context may be destroyed, so its raw handle must not be made current again (a
    // CudaStorage finalizer that runs late would otherwise call cuCtxSetCurrent/cuMemFree on a dangling context).
    // CudaStorage catches the ObjectDisposedException: the memory went away with the context.
    private void MakeCurrent()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        context.MakeCurrent();
    }

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        foreach (CudaEvent e in fences.Values.Concat(idleEvents)) e.Dispose();
        foreach (KernelModule m in modules.Values) m.Dispose();
        modules.Clear();
        cublas.Dispose();
        FreeCublasWorkspace();
        stream.Dispose();
        context.Dispose();
    }

    // Graphs: relaxed capture on the one stream, so work of another thread (a finalizer returning memory) does not
    // invalidate it. PROMPTAD_CUDA_SYNC=1 synchronizes after each launch, which a capture cannot, so it turns graphs off.
    private DeviceCounts? captureStart;
    private ulong cublasWorkspace;

    /// <summary>cuBLAS' workspace for captured GEMMs: 32 MiB, what cuBLAS documents for Hopper (4 MiB suffices before it).</summary>
    private const ulong CublasWorkspaceBytes = 32UL << 20;

    public bool SupportsGraphs => !syncEachLaunch && DriverVersion >= 11040; // cuGraphInstantiateWithFlags: CUDA 11.4

    private int DriverVersion => CudaDriver.cuDriverGetVersion(out int v) == CUresult.Success ? v : 0;

    public void BeginCapture()
    {
        MakeCurrent();
        if (captureStart is not null) throw new InvalidOperationException("a graph capture is already running on this stream");
        if (cublasWorkspace == 0)
        {
            cublasWorkspace = Allocate(CublasWorkspaceBytes);
            CublasException.Check(Cublas.cublasSetWorkspace_v2(cublas.Handle, cublasWorkspace, (nuint)CublasWorkspaceBytes), "cublasSetWorkspace_v2");
        }
        History.Record("graph capture");
        CudaException.Check(CudaDriver.cuStreamBeginCapture_v2(stream.Handle, CUstreamCaptureMode.Relaxed), "cuStreamBeginCapture_v2");
        captureStart = Counters.Snapshot();
    }

    public IDeviceGraph EndCapture()
    {
        MakeCurrent();
        var start = captureStart ?? throw new InvalidOperationException("no graph capture is running on this stream");
        captureStart = null;
        var contents = Counters.Snapshot() - start;
        Counters.Remove(contents);
        CudaException.Check(CudaDriver.cuStreamEndCapture(stream.Handle, out nint g), "cuStreamEndCapture");
        using var graph = new CudaGraph(context, g);
        return new Graph(new CudaGraphExec(graph), contents, graph.NodeCount());
    }

    public void LaunchGraph(IDeviceGraph graph)
    {
        MakeCurrent();
        var g = (Graph)graph;
        Counters.GraphLaunch();
        History.Record($"graph ({g.Nodes} nodes)");
        g.Exec.Launch(stream);
        if (syncEachLaunch) Surfacing(stream.Synchronize);
    }

    private void FreeCublasWorkspace()
    {
        if (cublasWorkspace == 0) return;
        context.MakeCurrent();
        CudaDriver.cuMemFree_v2(cublasWorkspace); // the context goes next; a late fault already surfaced or never will
        cublasWorkspace = 0;
    }

    private sealed class Graph(CudaGraphExec exec, DeviceCounts contents, int nodes) : IDeviceGraph
    {
        public CudaGraphExec Exec { get; } = exec;
        public DeviceCounts Contents { get; } = contents;
        public int Nodes { get; } = nodes;
        public void Dispose() => Exec.Dispose();
    }
}
