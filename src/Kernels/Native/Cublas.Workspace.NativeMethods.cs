using System.Runtime.InteropServices;

namespace PromptAD.Kernels.Native;

public static unsafe partial class Cublas
{
    /// <summary>
    /// Gives cuBLAS a workspace of ours, so GEMMs captured into a CUDA graph use memory that outlives the graph instead
    /// of one cuBLAS allocates per capture (cuBLAS before 12.2 allocated it with cudaMalloc during the capture).
    /// </summary>
    [LibraryImport(Lib)] public static partial CublasStatus cublasSetWorkspace_v2(nint handle, ulong workspace, nuint bytes);
}
