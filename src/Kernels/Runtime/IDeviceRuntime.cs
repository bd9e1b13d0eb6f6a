namespace PromptAD.Kernels;

/// <summary>
/// The device as <see cref="CudaBackend"/> sees it: raw memory behind 64-bit addresses, copies, kernel launches by file
/// and name, and a row-major GEMM. Two implementations: <see cref="CudaRuntime"/> (driver + NVRTC + cuBLAS) and
/// <see cref="EmulatedRuntime"/> (host memory + the kernels compiled for the CPU by kernels/emulation/build.sh), so
/// the backend's composition of kernels is tested in CI without a GPU. All work is ordered as if on one stream;
/// DtoH copies return only when the data is on the host.
/// </summary>
public unsafe interface IDeviceRuntime : IDisposable
{
    /// <summary>"cuda" or "emulated".</summary>
    string Name { get; }

    /// <summary>What this runtime has done, by kind (driver calls, not pooled tensor allocations).</summary>
    DeviceCounters Counters { get; }

    /// <summary>
    /// Whether device memory should be allocated at exactly the requested size, temporaries one allocation each (the
    /// emulated GPU's strict mode, where each allocation ends at a guard page): the memory pool then rounds nothing.
    /// </summary>
    bool StrictMemory => false;

    ulong Allocate(ulong bytes);
    void Free(ulong pointer);

    void CopyHtoD(ulong destination, void* source, ulong bytes);
    void CopyDtoH(void* destination, ulong source, ulong bytes);
    void CopyDtoD(ulong destination, ulong source, ulong bytes);

    /// <summary>Sets <paramref name="count"/> 32-bit words to <paramref name="value"/>.</summary>
    void Memset32(ulong destination, uint value, ulong count);

    /// <summary>Launches an <c>extern "C"</c> kernel of a kernels/*.cu file (contract in the file's header comment).</summary>
    void Launch(string kernelFile, string kernelName, Dim3 grid, Dim3 block, uint sharedBytes, in KernelArgs args);

    /// <summary>
    /// Row-major strided-batched SGEMM with <see cref="PromptAD.Tensors.IBackend.Gemm"/>'s meaning; pointers are the
    /// first elements of A, B and C (offsets already applied).
    /// </summary>
    void Gemm(bool transA, bool transB, int m, int n, int k, float alpha, ulong a, int lda, long strideA,
        ulong b, int ldb, long strideB, float beta, ulong c, int ldc, long strideC, int batch);

    /// <summary>Waits for all queued work; asynchronous faults surface here.</summary>
    void Synchronize();

    /// <summary>Page-locked host memory (asynchronous copies into it return at once); freed by <see cref="FreeHost"/>.</summary>
    void* AllocateHost(ulong bytes);
    void FreeHost(void* pointer);

    /// <summary>Queues a copy into page-locked host memory (from <see cref="AllocateHost"/>) without waiting for it.</summary>
    void CopyDtoHAsync(void* pinnedDestination, ulong source, ulong bytes);

    /// <summary>A marker behind all work queued so far (an event): poll it, wait for it, then release it.</summary>
    ulong RecordFence();
    bool FenceReached(ulong fence);
    void WaitFence(ulong fence);
    void ReleaseFence(ulong fence);

    // Graphs: the stream's work recorded once and queued again as one call (one training step per epoch).

    /// <summary>Whether <see cref="BeginCapture"/> works here (a driver with graphs; always on the emulation).</summary>
    bool SupportsGraphs { get; }

    /// <summary>
    /// Starts recording the stream's work instead of running it, until <see cref="EndCapture"/>. What cannot be part of a
    /// graph throws, as CUDA refuses it: device allocations and frees, copies from pageable host memory, synchronous
    /// device-to-host copies, synchronizations and fences. Asynchronous copies into page-locked memory are recorded.
    /// </summary>
    void BeginCapture();

    /// <summary>Ends the recording; what it recorded is counted in the graph's <see cref="IDeviceGraph.Contents"/>, not in <see cref="Counters"/>.</summary>
    IDeviceGraph EndCapture();

    /// <summary>Queues a graph's work (counted as one graph launch). The memory it uses must outlive the launch.</summary>
    void LaunchGraph(IDeviceGraph graph);

    /// <summary>How <see cref="Gemm"/> treats its inputs: FP32, or rounded to TF32 (cuBLAS' TF32 math mode) with
    /// <see cref="GemmPrecision.Tf32"/>. With <see cref="GemmPrecision.Bf16"/> the backend converts and calls
    /// <see cref="GemmBf16"/>; <see cref="Gemm"/> itself stays FP32 then.</summary>
    GemmPrecision Precision { get; }

    /// <summary>
    /// <see cref="Gemm"/> with A and B in BF16 (raw 16-bit patterns; leading dimensions and strides in elements) and C
    /// in FP32, accumulated in FP32 (cublasGemmStridedBatchedEx, CUBLAS_COMPUTE_32F).
    /// </summary>
    void GemmBf16(bool transA, bool transB, int m, int n, int k, float alpha, ulong a, int lda, long strideA,
        ulong b, int ldb, long strideB, float beta, ulong c, int ldc, long strideC, int batch);
}
