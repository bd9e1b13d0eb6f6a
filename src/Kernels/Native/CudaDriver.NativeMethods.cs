using System.Runtime.InteropServices;

namespace PromptAD.Kernels.Native;

/// <summary>
/// Raw CUDA driver API (libcuda.so.1 / nvcuda.dll). Source-generated <c>[LibraryImport]</c> stubs only, so they work
/// under NativeAOT; the logical library name "cuda" is mapped to a real file by <see cref="CudaLibraryResolver"/>.
/// Handles are <c>nint</c>, device pointers are <c>ulong</c> (CUdeviceptr is 64-bit on every platform we ship).
/// The versioned names (<c>_v2</c>) are the symbols the CUDA headers bind to since CUDA 4/11; the unsuffixed ones are legacy.
/// </summary>
public static unsafe partial class CudaDriver
{
    private const string Lib = CudaLibraryResolver.CudaName;

    // Registering in the static constructor guarantees the resolver is in place before the first stub runs.
    static CudaDriver() => CudaLibraryResolver.Register();

    [LibraryImport(Lib)] public static partial CUresult cuInit(uint flags);
    [LibraryImport(Lib)] public static partial CUresult cuDriverGetVersion(out int version);
    [LibraryImport(Lib)] public static partial CUresult cuGetErrorName(CUresult error, out nint name);
    [LibraryImport(Lib)] public static partial CUresult cuGetErrorString(CUresult error, out nint text);

    [LibraryImport(Lib)] public static partial CUresult cuDeviceGetCount(out int count);
    [LibraryImport(Lib)] public static partial CUresult cuDeviceGet(out int device, int ordinal);
    [LibraryImport(Lib)] public static partial CUresult cuDeviceGetName(byte* name, int length, int device);
    [LibraryImport(Lib)] public static partial CUresult cuDeviceGetAttribute(out int value, CUdeviceAttribute attribute, int device);
    [LibraryImport(Lib)] public static partial CUresult cuDeviceTotalMem_v2(out nuint bytes, int device);

    [LibraryImport(Lib)] public static partial CUresult cuDevicePrimaryCtxRetain(out nint context, int device);
    [LibraryImport(Lib)] public static partial CUresult cuDevicePrimaryCtxRelease_v2(int device);
    [LibraryImport(Lib)] public static partial CUresult cuCtxSetCurrent(nint context);
    [LibraryImport(Lib)] public static partial CUresult cuCtxGetCurrent(out nint context);
    [LibraryImport(Lib)] public static partial CUresult cuCtxSynchronize();
    [LibraryImport(Lib)] public static partial CUresult cuMemGetInfo_v2(out nuint free, out nuint total);

    [LibraryImport(Lib)] public static partial CUresult cuMemAlloc_v2(out ulong devicePtr, nuint bytes);
    [LibraryImport(Lib)] public static partial CUresult cuMemFree_v2(ulong devicePtr);
    [LibraryImport(Lib)] public static partial CUresult cuMemAllocHost_v2(void** pointer, nuint bytes);
    [LibraryImport(Lib)] public static partial CUresult cuMemFreeHost(void* pointer);
    [LibraryImport(Lib)] public static partial CUresult cuMemcpyHtoDAsync_v2(ulong dst, void* src, nuint bytes, nint stream);
    [LibraryImport(Lib)] public static partial CUresult cuMemcpyDtoHAsync_v2(void* dst, ulong src, nuint bytes, nint stream);
    [LibraryImport(Lib)] public static partial CUresult cuMemcpyDtoDAsync_v2(ulong dst, ulong src, nuint bytes, nint stream);
    [LibraryImport(Lib)] public static partial CUresult cuMemsetD32Async(ulong dst, uint value, nuint count, nint stream);

    [LibraryImport(Lib)] public static partial CUresult cuStreamCreate(out nint stream, uint flags);
    [LibraryImport(Lib)] public static partial CUresult cuStreamDestroy_v2(nint stream);
    [LibraryImport(Lib)] public static partial CUresult cuStreamSynchronize(nint stream);

    [LibraryImport(Lib)] public static partial CUresult cuEventCreate(out nint evt, uint flags);
    [LibraryImport(Lib)] public static partial CUresult cuEventRecord(nint evt, nint stream);
    [LibraryImport(Lib)] public static partial CUresult cuEventSynchronize(nint evt);
    [LibraryImport(Lib)] public static partial CUresult cuEventQuery(nint evt);
    [LibraryImport(Lib)] public static partial CUresult cuEventElapsedTime(out float milliseconds, nint start, nint end);
    [LibraryImport(Lib)] public static partial CUresult cuEventDestroy_v2(nint evt);

    [LibraryImport(Lib)]
    public static partial CUresult cuModuleLoadDataEx(out nint module, void* image, uint optionCount, CUjitOption* options, void** optionValues);
    [LibraryImport(Lib)] public static partial CUresult cuModuleUnload(nint module);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    public static partial CUresult cuModuleGetFunction(out nint function, nint module, string name);
    [LibraryImport(Lib)] public static partial CUresult cuFuncSetAttribute(nint function, CUfunctionAttribute attribute, int value);

    [LibraryImport(Lib)]
    public static partial CUresult cuLaunchKernel(nint function, uint gridX, uint gridY, uint gridZ,
        uint blockX, uint blockY, uint blockZ, uint sharedMemBytes, nint stream, void** kernelParams, void** extra);

    // CUDA graphs (driver 11.4+): a stream's work captured once into a graph, instantiated, then launched as one call.
    [LibraryImport(Lib)] public static partial CUresult cuStreamBeginCapture_v2(nint stream, CUstreamCaptureMode mode);
    [LibraryImport(Lib)] public static partial CUresult cuStreamEndCapture(nint stream, out nint graph);
    [LibraryImport(Lib)] public static partial CUresult cuGraphInstantiateWithFlags(out nint graphExec, nint graph, ulong flags);
    [LibraryImport(Lib)] public static partial CUresult cuGraphGetNodes(nint graph, nint* nodes, ref nuint count);
    [LibraryImport(Lib)] public static partial CUresult cuGraphLaunch(nint graphExec, nint stream);
    [LibraryImport(Lib)] public static partial CUresult cuGraphExecDestroy(nint graphExec);
    [LibraryImport(Lib)] public static partial CUresult cuGraphDestroy(nint graph);
}
