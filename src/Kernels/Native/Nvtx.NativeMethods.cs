using System.Runtime.InteropServices;

namespace PromptAD.Kernels.Native;

/// <summary>NVTX (libnvToolsExt): push/pop named ranges that Nsight Systems and Nsight Compute show on the timeline.</summary>
internal static unsafe partial class Nvtx
{
    private const string Lib = CudaLibraryResolver.NvtxName;

    static Nvtx() => CudaLibraryResolver.Register();

    [LibraryImport(Lib, EntryPoint = "nvtxRangePushA")]
    internal static partial int nvtxRangePushA(byte* message);

    [LibraryImport(Lib, EntryPoint = "nvtxRangePop")]
    internal static partial int nvtxRangePop();
}
