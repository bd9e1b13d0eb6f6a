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
    private readonly delegate* unmanaged<byte*, uint, uint, uint, uint, uint, uint, nuint, void**, int, EmuSchedule*, int> launch;
    private readonly delegate* unmanaged<byte*> lastError;
    private readonly delegate* unmanaged<nuint> faultAddress;
    private readonly delegate* unmanaged<byte*, int*, int> signature;
    private readonly delegate* unmanaged<nuint, int, void*> alloc;
    private readonly delegate* unmanaged<void*, nuint, int, void> free;
    private readonly AllocationMap live = new(), liveHost = new();
    private readonly Dictionary<string, int[]> signatures = new(StringComparer.Ordinal);

    /// <param name="precision">The GEMM precision to emulate (see <see cref="Precision"/>).</param>
    /// <param name="options">Schedule, strict memory and deferred work (<see cref="EmulationOptions.Default"/>: ascending,
    /// strict memory, work run when queued).</param>
    public EmulatedRuntime(string libraryPath, GemmPrecision precision = GemmPrecision.Fp32, EmulationOptions? options = null)
    {
        Precision = precision;
        Options = options ?? EmulationOptions.Default;
        library = NativeLibrary.Load(libraryPath);
        launch = (delegate* unmanaged<byte*, uint, uint, uint, uint, uint, uint, nuint, void**, int, EmuSchedule*, int>)Export("emu_launch");
        lastError = (delegate* unmanaged<byte*>)Export("emu_last_error");
        faultAddress = (delegate* unmanaged<nuint>)Export("emu_fault_address");
        signature = (delegate* unmanaged<byte*, int*, int>)Export("emu_signature");
        alloc = (delegate* unmanaged<nuint, int, void*>)Export("emu_alloc");
        free = (delegate* unmanaged<void*, nuint, int, void>)Export("emu_free");
    }

    private nint Export(string name) => NativeLibrary.TryGetExport(library, name, out nint f) ? f
        : throw new EntryPointNotFoundException($"emulated device: the library has no {name}; rebuild it with kernels/emulation/build.sh");

    public string Name => "emulated";

    /// <summary>The schedule and checks this runtime runs with.</summary>
    public EmulationOptions Options { get; }

    /// <summary>Device allocations are exactly their size, each followed by a guard page.</summary>
    public bool StrictMemory => Options.StrictMemory;

    public DeviceCounters Counters { get; } = new();

    /// <summary>Number of allocations not yet freed (tests use it to catch leaked temporaries).</summary>
    public int LiveAllocations { get { lock (live) return live.Count; } }

    /// <summary>Every (kernel, threads per block, dynamic shared bytes) launched so far, for the resource-limit check.</summary>
    public IReadOnlyCollection<(string Kernel, int Threads, uint SharedBytes)> LaunchShapes
    {
        get { lock (shapes) return [.. shapes]; }
    }

    private readonly HashSet<(string, int, uint)> shapes = [];

    public ulong Allocate(ulong bytes)
    {
        Refuse("device allocation (cuMemAlloc)");
        Counters.Allocation();
        ulong p = (ulong)alloc((nuint)bytes, StrictMemory ? 1 : 0);
        if (p == 0) throw new OutOfMemoryException($"emulated device: could not allocate {bytes} bytes");
        lock (live) live.Add(p, bytes);
        return p;
    }

    public void Free(ulong pointer)
    {
        Refuse("device free (cuMemFree)");
        Drain(); // cuMemFree waits for the device
        Counters.Free();
        ulong bytes;
        lock (live)
            if (!live.Remove(pointer, out bytes)) throw new InvalidOperationException($"emulated device: free of unknown pointer 0x{pointer:x}");
        free((void*)pointer, (nuint)bytes, StrictMemory ? 1 : 0);
    }

    // Counted as CudaRuntime counts them: empty copies and copies onto themselves are no calls there.
    public void CopyHtoD(ulong destination, void* source, ulong bytes)
    {
        if (bytes == 0) return;
        Refuse("host-to-device copy from pageable memory");
        Counters.HostToDevice(bytes);
        if (!Options.Deferred)
        {
            Buffer.MemoryCopy(source, (void*)destination, bytes, bytes);
            return;
        }
        // The driver stages a pageable source before returning; the copy itself stays in stream order.
        byte[] staged = new ReadOnlySpan<byte>(source, checked((int)bytes)).ToArray();
        Queue(() => staged.CopyTo(new Span<byte>((void*)destination, staged.Length)), "host-to-device copy", destination);
    }

    public void CopyDtoH(void* destination, ulong source, ulong bytes)
    {
        if (bytes == 0) return;
        Refuse("synchronous device-to-host copy");
        Counters.DeviceToHost(bytes);
        Counters.Synchronization();
        Drain();
        Buffer.MemoryCopy((void*)source, destination, bytes, bytes);
    }

    public void CopyDtoD(ulong destination, ulong source, ulong bytes)
    {
        if (bytes == 0 || destination == source) return;
        Counters.DeviceToDevice();
        Queue(() => Buffer.MemoryCopy((void*)source, (void*)destination, bytes, bytes), "device-to-device copy", destination, source);
    }

    public void Memset32(ulong destination, uint value, ulong count)
    {
        if (count == 0) return;
        Counters.Memset();
        Queue(() => new Span<uint>((void*)destination, checked((int)count)).Fill(value), "memset", destination);
    }

    public void Launch(string kernelFile, string kernelName, Dim3 grid, Dim3 block, uint sharedBytes, in KernelArgs args)
    {
        Counters.KernelLaunch();
        lock (shapes) shapes.Add((kernelName, (int)(block.X * block.Y * block.Z), sharedBytes));
        KernelArgs slots = args; // the argument values as they are now, as cuLaunchKernel copies them (into a graph too)
        int[] pointees = Signature(kernelFile, kernelName);
        var pointers = new List<ulong>();
        for (int i = 0; i < Math.Min(pointees.Length, slots.Count); i++)
            if (pointees[i] > 0 && slots.Slot(i) != 0) pointers.Add(slots.Slot(i));
        Queue(() => Run(kernelFile, kernelName, grid, block, sharedBytes, slots), $"kernel {kernelName} ({kernelFile})", [.. pointers]);
    }

    /// <summary>Per parameter of the kernel: 0 for a value, else its pointee's alignment (from the compiled signature).</summary>
    private int[] Signature(string kernelFile, string kernelName)
    {
        lock (signatures)
        {
            if (signatures.TryGetValue(kernelName, out int[]? known)) return known;
            int* aligns = stackalloc int[KernelArgs.Capacity];
            int count;
            fixed (byte* name = Utf8(kernelName)) count = signature(name, aligns);
            if (count < 0) throw new InvalidOperationException($"emulated launch of {kernelName} ({kernelFile}) failed: no emulated kernel named {kernelName}");
            return signatures[kernelName] = new ReadOnlySpan<int>(aligns, count).ToArray();
        }
    }

    private static byte[] Utf8(string s)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(s) + 1];
        Encoding.UTF8.GetBytes(s, bytes);
        return bytes;
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
        var schedule = new EmuSchedule { Order = (int)Options.Schedule, Seed = Options.Seed };
        int rc;
        fixed (byte* name = Utf8(kernelName))
            rc = launch(name, grid.X, grid.Y, grid.Z, block.X, block.Y, block.Z, sharedBytes, pointers, n, &schedule);
        if (rc == 0) return;
        string message = Marshal.PtrToStringUTF8((nint)lastError()) ?? "";
        if (rc == 5)
        {
            ulong at = faultAddress();
            string region;
            lock (live) region = live.Describe(at);
            message += $" ({region}); arguments: {DescribeArguments(kernelFile, kernelName, values, n)}";
        }
        throw new InvalidOperationException($"emulated launch of {kernelName} ({kernelFile}, grid {grid}, block {block}, {sharedBytes} B dynamic shared) failed ({rc}): {message}");
    }

    /// <summary>The launch's arguments in words: pointers with the allocation they fall in, values as int and float.</summary>
    private string DescribeArguments(string kernelFile, string kernelName, ulong* values, int n)
    {
        int[] pointees = Signature(kernelFile, kernelName);
        var parts = new List<string>();
        lock (live)
            for (int i = 0; i < n; i++)
                parts.Add(i < pointees.Length && pointees[i] > 0
                    ? (values[i] == 0 ? $"#{i} null" : $"#{i} {live.Describe(values[i])}")
                    : $"#{i} {(int)(uint)values[i]} (float {BitConverter.UInt32BitsToSingle((uint)values[i])})");
        return string.Join("; ", parts);
    }

    /// <summary>What <c>emu_launch</c> reads as its schedule (emu_runtime.cpp's Schedule).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct EmuSchedule
    {
        public int Order;
        public int Reserved;
        public ulong Seed;
    }

    public void Gemm(bool transA, bool transB, int m, int n, int k, float alpha, ulong a, int lda, long strideA,
        ulong b, int ldb, long strideB, float beta, ulong c, int ldc, long strideC, int batch)
    {
        if (m == 0 || n == 0 || batch == 0) return;
        CublasRules.Check("cublasSgemmStridedBatched", transA, transB, m, n, k, a, lda, strideA, b, ldb, strideB, c, ldc, strideC, batch, sizeof(float));
        Counters.Gemm();
        Queue(() => RunGemm(transA, transB, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta, c, ldc, strideC, batch, bf16: false),
            $"gemm {m}x{n}x{k}", a, b, c);
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
        CublasRules.Check("cublasGemmStridedBatchedEx", transA, transB, m, n, k, a, lda, strideA, b, ldb, strideB, c, ldc, strideC, batch, sizeof(ushort));
        Counters.Gemm();
        Queue(() => RunGemm(transA, transB, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta, c, ldc, strideC, batch, bf16: true),
            $"gemm bf16 {m}x{n}x{k}", a, b, c);
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
        Drain();
    }

    public void* AllocateHost(ulong bytes)
    {
        Refuse("page-locked host allocation");
        Counters.Allocation();
        void* p = NativeMemory.AlignedAlloc((nuint)Math.Max(bytes, 4), 256);
        lock (live) liveHost.Add((ulong)p, bytes);
        return p;
    }

    public void FreeHost(void* pointer)
    {
        Refuse("page-locked host free");
        Drain(); // cuMemFreeHost waits for the device
        Counters.Free();
        lock (live)
            if (!liveHost.Remove((ulong)pointer, out _)) throw new InvalidOperationException($"emulated device: host free of unknown pointer 0x{(ulong)pointer:x}");
        NativeMemory.AlignedFree(pointer);
    }

    public void CopyDtoHAsync(void* pinnedDestination, ulong source, ulong bytes)
    {
        if (bytes == 0) return;
        Counters.DeviceToHost(bytes);
        // Deferred: until the copy runs the destination holds NaN, so a host read that did not wait shows.
        if (Options.Deferred && recording is null) new Span<byte>(pinnedDestination, checked((int)bytes)).Fill(0xFF);
        Queue(() => Buffer.MemoryCopy((void*)source, pinnedDestination, bytes, bytes), "device-to-host copy", source, (ulong)pinnedDestination);
    }

    // A fence is the count of work queued when it was recorded: reached once that much has run.
    private long fences;
    private readonly Dictionary<ulong, long> fenceMarks = [];

    public ulong RecordFence()
    {
        Refuse("fence (event) record");
        lock (pending)
        {
            ulong id = (ulong)Interlocked.Increment(ref fences);
            fenceMarks[id] = queued;
            return id;
        }
    }

    public bool FenceReached(ulong fence)
    {
        Refuse("fence (event) query");
        lock (pending) return !fenceMarks.TryGetValue(fence, out long mark) || ran >= mark;
    }

    public void WaitFence(ulong fence)
    {
        Refuse("fence (event) wait");
        Counters.Synchronization();
        Drain();
    }

    public void ReleaseFence(ulong fence)
    {
        lock (pending) fenceMarks.Remove(fence);
    }

    public void Dispose()
    {
        // The library stays loaded: its kernels' static "shared" arrays are process-wide anyway, and unloading a
        // library that another runtime instance may still use would be unsafe.
    }

    // Graphs: while capturing, the work of kernels, GEMMs, memsets and device copies is recorded (with its arguments as
    // they are at capture, and the device pointers it uses) instead of run; a launch checks that every one of those
    // pointers still lies in a live allocation, then runs the recording. What CUDA refuses during a capture throws here.
    private List<Work>? recording;
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
        lock (live)
            for (int i = 0; i < g.Work.Length; i++)
                foreach (ulong p in g.Work[i].Pointers)
                    if (!live.Contains(p) && !liveHost.Contains(p))
                        throw new InvalidOperationException(
                            $"emulated device: graph replay: node {i} ({g.Work[i].What}) uses 0x{p:x}, which is in no live allocation " +
                            $"(freed after the capture? {live.Describe(p)}); a real GPU would read or write freed memory");
        Drain();
        foreach (var work in g.Work) work.Run();
    }

    /// <summary>One piece of stream work: what it does, for errors, and the device and pinned pointers it touches.</summary>
    private sealed record Work(Action Run, string What, ulong[] Pointers);

    // Deferred mode: work waits here until Drain. `queued` and `ran` count work items for fences.
    private readonly Queue<Work> pending = new();
    private long queued, ran;

    /// <summary>Runs stream work now (or, deferred, at the next drain), or records it into the running capture.</summary>
    private void Queue(Action run, string what, params ulong[] pointers)
    {
        var work = new Work(run, what, pointers);
        if (recording is not null)
        {
            recording.Add(work);
            return;
        }
        if (!Options.Deferred)
        {
            run();
            lock (pending) { queued++; ran++; }
            return;
        }
        lock (pending)
        {
            pending.Enqueue(work);
            queued++;
        }
    }

    /// <summary>Runs every deferred piece of work in order (a synchronization point).</summary>
    private void Drain()
    {
        while (true)
        {
            Work next;
            lock (pending)
                if (!pending.TryDequeue(out next!)) return;
            try { next.Run(); }
            finally { lock (pending) ran++; }
        }
    }

    private void Refuse(string call)
    {
        if (recording is not null)
            throw new InvalidOperationException($"emulated device: {call} during a graph capture (CUDA refuses it; the captured step must not do it)");
    }

    private sealed class EmulatedGraph(Work[] work, DeviceCounts contents) : IDeviceGraph
    {
        public Work[] Work { get; } = work;
        public DeviceCounts Contents { get; } = contents;
        public bool Disposed { get; private set; }
        public void Dispose() => Disposed = true;
    }
}
