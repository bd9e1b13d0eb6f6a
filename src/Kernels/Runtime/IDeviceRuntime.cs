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
}
