using System.Runtime.InteropServices;
using System.Text;
using PromptAD.Tensors.Cpu;

namespace PromptAD.Kernels;

/// <summary>
/// A device made of the host: "device memory" is aligned native memory whose address is the device pointer, copies are
/// memcpy, kernels run through libpromptad_emu.so (our kernels compiled for the CPU by kernels/emulation/build.sh, see
/// its README for what that can and cannot catch) and GEMMs run on <see cref="CpuGemm"/>. It exists so
/// <see cref="CudaBackend"/>'s use of the kernels is tested in CI; it is slow and not meant for real work.
/// The library is bound with NativeLibrary + function pointers rather than a DllImport resolver, because the
/// Kernels assembly's single resolver slot already belongs to <see cref="Native.CudaLibraryResolver"/>.
/// </summary>
public sealed unsafe class EmulatedRuntime : IDeviceRuntime
{
    private readonly nint library;
    private readonly delegate* unmanaged<byte*, uint, uint, uint, uint, uint, uint, nuint, void**, int> launch;
    private readonly delegate* unmanaged<byte*> lastError;
    private readonly HashSet<ulong> live = [];

    /// <param name="precision">The GEMM precision to emulate (see <see cref="Precision"/>).</param>
    public EmulatedRuntime(string libraryPath, GemmPrecision precision = GemmPrecision.Fp32)
    {
        Precision = precision;
        library = NativeLibrary.Load(libraryPath);
        launch = (delegate* unmanaged<byte*, uint, uint, uint, uint, uint, uint, nuint, void**, int>)NativeLibrary.GetExport(library, "emu_launch");
        lastError = (delegate* unmanaged<byte*>)NativeLibrary.GetExport(library, "emu_last_error");
    }

    public string Name => "emulated";

    public DeviceCounters Counters { get; } = new();

    /// <summary>Number of allocations not yet freed (tests use it to catch leaked temporaries).</summary>
    public int LiveAllocations { get { lock (live) return live.Count; } }

    public ulong Allocate(ulong bytes)
    {
        Refuse("device allocation (cuMemAlloc)");
        Counters.Allocation();
        ulong p = (ulong)NativeMemory.AlignedAlloc((nuint)Math.Max(bytes, 4), 256);
        if (p == 0) throw new OutOfMemoryException($"emulated device: could not allocate {bytes} bytes");
        lock (live) live.Add(p);
        return p;
    }

    public void Free(ulong pointer)
    {
        Refuse("device free (cuMemFree)");
        Counters.Free();
        lock (live)
            if (!live.Remove(pointer)) throw new InvalidOperationException($"emulated device: free of unknown pointer 0x{pointer:x}");
        NativeMemory.AlignedFree((void*)pointer);
    }

    // Counted as CudaRuntime counts them: empty copies and copies onto themselves are no calls there.
    public void CopyHtoD(ulong destination, void* source, ulong bytes)
    {
        if (bytes == 0) return;
        Refuse("host-to-device copy from pageable memory");
        Counters.HostToDevice(bytes);
        Buffer.MemoryCopy(source, (void*)destination, bytes, bytes);
    }

    public void CopyDtoH(void* destination, ulong source, ulong bytes)
    {
        if (bytes == 0) return;
        Refuse("synchronous device-to-host copy");
        Counters.DeviceToHost(bytes);
        Counters.Synchronization();
        Buffer.MemoryCopy((void*)source, destination, bytes, bytes);
    }

    public void CopyDtoD(ulong destination, ulong source, ulong bytes)
    {
        if (bytes == 0 || destination == source) return;
        Counters.DeviceToDevice();
        Queue(() => Buffer.MemoryCopy((void*)source, (void*)destination, bytes, bytes));
    }

    public void Memset32(ulong destination, uint value, ulong count)
    {
        if (count == 0) return;
        Counters.Memset();
        Queue(() => new Span<uint>((void*)destination, checked((int)count)).Fill(value));
    }

    public void Launch(string kernelFile, string kernelName, Dim3 grid, Dim3 block, uint sharedBytes, in KernelArgs args)
    {
        Counters.KernelLaunch();
        KernelArgs slots = args; // the argument values as they are now, as cuLaunchKernel copies them (into a graph too)
        Queue(() => Run(kernelFile, kernelName, grid, block, sharedBytes, slots));
    }

    private void Run(string kernelFile, string kernelName, Dim3 grid, Dim3 block, uint sharedBytes, in KernelArgs args)
    {
        int n = args.Count;
        ulong* values = stackalloc ulong[Math.Max(n, 1)];
        void** pointers = stackalloc void*[Math.Max(n, 1)];
        for (int i = 0; i < n; i++)
        {
            values[i] = args.Slot(i);
            pointers[i] = values + i;
        }
        int length = Encoding.UTF8.GetByteCount(kernelName);
        byte* name = stackalloc byte[length + 1];
        Encoding.UTF8.GetBytes(kernelName, new Span<byte>(name, length));
        name[length] = 0;
        int rc = launch(name, grid.X, grid.Y, grid.Z, block.X, block.Y, block.Z, sharedBytes, pointers);
        if (rc != 0)
            throw new InvalidOperationException($"emulated launch of {kernelName} ({kernelFile}) failed ({rc}): {Marshal.PtrToStringUTF8((nint)lastError())}");
    }

    public void Gemm(bool transA, bool transB, int m, int n, int k, float alpha, ulong a, int lda, long strideA,
        ulong b, int ldb, long strideB, float beta, ulong c, int ldc, long strideC, int batch)
    {
        if (m == 0 || n == 0 || batch == 0) return;
        Counters.Gemm();
        Queue(() => RunGemm(transA, transB, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta, c, ldc, strideC, batch, bf16: false));
    }

    /// <summary>
    /// The emulated reduced-precision GEMMs. TF32: A and B are rounded to TF32 (to nearest, <see cref="Bf16.RoundToTf32"/>)
    /// before an FP32 GEMM. BF16: A and B are read as the BF16 bit patterns the backend's conversion kernel (our
    /// convert.cu, run by the emulation) or a weight's BF16 copy left in "device" memory, widened exactly, then an FP32
    /// GEMM. Since a BF16×BF16 or TF32×TF32 product is exact in FP32, this is what the tensor cores compute up to the
    /// order of the FP32 accumulation. What that proves: the conversion kernel's rounding, that the backend passes the
    /// right buffers, offsets, leading dimensions and strides, that weights' copies are used and current, and the
    /// numerical effect of the precision on every op and on the end-to-end result. What it does not: cuBLAS' kernel
    /// choice and accumulation order (split-K), its alignment rules, whether the hardware truncates TF32 inputs instead of
    /// rounding them (then up to 2^-10 instead of 2^-11 per input; the GPU tests' tolerances allow that), or speed.
    /// </summary>
    public GemmPrecision Precision { get; }

    public void GemmBf16(bool transA, bool transB, int m, int n, int k, float alpha, ulong a, int lda, long strideA,
        ulong b, int ldb, long strideB, float beta, ulong c, int ldc, long strideC, int batch)
    {
        if (m == 0 || n == 0 || batch == 0) return;
        Counters.Gemm();
        Queue(() => RunGemm(transA, transB, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta, c, ldc, strideC, batch, bf16: true));
    }

    /// <summary>The GEMM itself (now, or when a recorded graph is replayed): FP32 operands as they are (rounded to TF32
    /// in that precision), or BF16 operands widened.</summary>
    private void RunGemm(bool transA, bool transB, int m, int n, int k, float alpha, ulong a, int lda, long strideA,
        ulong b, int ldb, long strideB, float beta, ulong c, int ldc, long strideC, int batch, bool bf16)
    {
        if (!bf16 && Precision != GemmPrecision.Tf32)
        {
            CpuGemm.SgemmStridedBatched(transA, transB, m, n, k, alpha, (float*)a, lda, strideA, (float*)b, ldb, strideB, beta,
                (float*)c, ldc, strideC, batch);
            return;
        }
        float[] wa = Widened(a, GemmExtent.A(transA, m, k, lda, strideA, batch), bf16);
        float[] wb = Widened(b, GemmExtent.B(transB, n, k, ldb, strideB, batch), bf16);
        fixed (float* pa = wa, pb = wb)
            CpuGemm.SgemmStridedBatched(transA, transB, m, n, k, alpha, pa, lda, strideA, pb, ldb, strideB, beta,
                (float*)c, ldc, strideC, batch);
    }

    /// <summary>An operand's elements as FP32: BF16 patterns widened, or FP32 values rounded to TF32.</summary>
    private static float[] Widened(ulong pointer, long count, bool bf16)
    {
        var values = new float[Math.Max(count, 1)];
        if (bf16)
        {
            var source = new ReadOnlySpan<ushort>((void*)pointer, checked((int)count));
            for (int i = 0; i < source.Length; i++) values[i] = Bf16.ToFloat(source[i]);
        }
        else
        {
            var source = new ReadOnlySpan<float>((void*)pointer, checked((int)count));
            for (int i = 0; i < source.Length; i++) values[i] = Bf16.RoundToTf32(source[i]);
        }
        return values;
    }

    public void Synchronize()
    {
        Refuse("synchronization");
        Counters.Synchronization();
    }

    public void* AllocateHost(ulong bytes)
    {
        Refuse("page-locked host allocation");
        Counters.Allocation();
        return NativeMemory.AlignedAlloc((nuint)Math.Max(bytes, 4), 256);
    }

    public void FreeHost(void* pointer)
    {
        Refuse("page-locked host free");
        Counters.Free();
        NativeMemory.AlignedFree(pointer);
    }

    public void CopyDtoHAsync(void* pinnedDestination, ulong source, ulong bytes)
    {
        if (bytes == 0) return;
        Counters.DeviceToHost(bytes);
        Queue(() => Buffer.MemoryCopy((void*)source, pinnedDestination, bytes, bytes));
    }

    // Work runs when queued here, so every fence is reached as soon as it is recorded.
    private long fences;

    public ulong RecordFence()
    {
        Refuse("fence (event) record");
        return (ulong)Interlocked.Increment(ref fences);
    }

    public bool FenceReached(ulong fence)
    {
        Refuse("fence (event) query");
        return true;
    }

    public void WaitFence(ulong fence)
    {
        Refuse("fence (event) wait");
        Counters.Synchronization();
    }

    public void ReleaseFence(ulong fence) { }

    public void Dispose()
    {
        // The library stays loaded: its kernels' static "shared" arrays are process-wide anyway, and unloading a
        // library that another runtime instance may still use would be unsafe.
    }

    // Graphs: while capturing, the work of kernels, GEMMs, memsets and device copies is recorded (with its arguments as
    // they are at capture) instead of run; a launch runs the recording. What CUDA refuses during a capture throws here.
    private List<Action>? recording;
    private DeviceCounts captureStart;

    public bool SupportsGraphs => true;

    public void BeginCapture()
    {
        if (recording is not null) throw new InvalidOperationException("emulated device: a graph capture is already running");
        captureStart = Counters.Snapshot();
        recording = [];
    }

    public IDeviceGraph EndCapture()
    {
        var work = recording ?? throw new InvalidOperationException("emulated device: no graph capture is running");
        recording = null;
        var contents = Counters.Snapshot() - captureStart;
        Counters.Remove(contents);
        return new EmulatedGraph([.. work], contents);
    }

    public void LaunchGraph(IDeviceGraph graph)
    {
        Refuse("graph launch");
        var g = (EmulatedGraph)graph;
        ObjectDisposedException.ThrowIf(g.Disposed, g);
        Counters.GraphLaunch();
        foreach (var work in g.Work) work();
    }

    /// <summary>Runs stream work now, or records it into the running capture.</summary>
    private void Queue(Action work)
    {
        if (recording is null) work();
        else recording.Add(work);
    }

    private void Refuse(string call)
    {
        if (recording is not null)
            throw new InvalidOperationException($"emulated device: {call} during a graph capture (CUDA refuses it; the captured step must not do it)");
    }

    private sealed class EmulatedGraph(Action[] work, DeviceCounts contents) : IDeviceGraph
    {
        public Action[] Work { get; } = work;
        public DeviceCounts Contents { get; } = contents;
        public bool Disposed { get; private set; }
        public void Dispose() => Disposed = true;
    }
}
