using System.Runtime.InteropServices;

namespace PromptAD.Kernels.Native;

/// <summary>cublasStatus_t.</summary>
public enum CublasStatus
{
    Success = 0,
    NotInitialized = 1,
    AllocFailed = 3,
    InvalidValue = 7,
    ArchMismatch = 8,
    MappingError = 11,
    ExecutionFailed = 13,
    InternalError = 14,
    NotSupported = 15,
    LicenseError = 16,
}

/// <summary>cublasOperation_t. cuBLAS is column-major: a row-major [m,k] matrix is its transpose.</summary>
public enum CublasOperation { N = 0, T = 1, C = 2 }

/// <summary>cublasMath_t. <see cref="Tf32TensorOp"/> lets FP32 GEMMs run on tensor cores with TF32 inputs.</summary>
public enum CublasMath { Default = 0, Pedantic = 2, Tf32TensorOp = 3, DisallowReducedPrecisionReduction = 16 }

/// <summary>cudaDataType_t values we pass to the *Ex GEMMs.</summary>
public enum CudaDataType { R32F = 0, R16F = 2, R16BF = 14 }

/// <summary>cublasComputeType_t (CUDA 11+).</summary>
public enum CublasComputeType { Compute32F = 68, Compute32FPedantic = 69, Compute32FFast16F = 74, Compute32FFast16BF = 75, Compute32FFastTf32 = 77 }

/// <summary>cublasGemmAlgo_t: only the heuristic choices.</summary>
public enum CublasGemmAlgo { Default = -1, DefaultTensorOp = 99 }

/// <summary>
/// Raw cuBLAS API (libcublas.so.N / cublas64_N.dll), logical name "cublas". Scalars (alpha, beta) are host pointers,
/// which is cuBLAS's default pointer mode. <c>long</c> strides are <c>long long</c> in the C API.
/// </summary>
public static unsafe partial class Cublas
{
    private const string Lib = CudaLibraryResolver.CublasName;

    static Cublas() => CudaLibraryResolver.Register();

    [LibraryImport(Lib)] public static partial CublasStatus cublasCreate_v2(out nint handle);
    [LibraryImport(Lib)] public static partial CublasStatus cublasDestroy_v2(nint handle);
    [LibraryImport(Lib)] public static partial CublasStatus cublasSetStream_v2(nint handle, nint stream);
    [LibraryImport(Lib)] public static partial CublasStatus cublasSetMathMode(nint handle, CublasMath mode);
    [LibraryImport(Lib)] public static partial CublasStatus cublasGetVersion_v2(nint handle, out int version);
    /// <summary>libraryPropertyType: 0 major, 1 minor, 2 patch. Needs no handle and no GPU, so the doctor can call it.</summary>
    [LibraryImport(Lib)] public static partial CublasStatus cublasGetProperty(int type, out int value);

    [LibraryImport(Lib)]
    public static partial CublasStatus cublasSgemm_v2(nint handle, CublasOperation transA, CublasOperation transB,
        int m, int n, int k, float* alpha, ulong a, int lda, ulong b, int ldb, float* beta, ulong c, int ldc);

    [LibraryImport(Lib)]
    public static partial CublasStatus cublasSgemmStridedBatched(nint handle, CublasOperation transA, CublasOperation transB,
        int m, int n, int k, float* alpha, ulong a, int lda, long strideA, ulong b, int ldb, long strideB,
        float* beta, ulong c, int ldc, long strideC, int batchCount);

    [LibraryImport(Lib)]
    public static partial CublasStatus cublasGemmEx(nint handle, CublasOperation transA, CublasOperation transB,
        int m, int n, int k, void* alpha, ulong a, CudaDataType aType, int lda, ulong b, CudaDataType bType, int ldb,
        void* beta, ulong c, CudaDataType cType, int ldc, CublasComputeType computeType, CublasGemmAlgo algo);

    [LibraryImport(Lib)]
    public static partial CublasStatus cublasGemmStridedBatchedEx(nint handle, CublasOperation transA, CublasOperation transB,
        int m, int n, int k, void* alpha, ulong a, CudaDataType aType, int lda, long strideA,
        ulong b, CudaDataType bType, int ldb, long strideB, void* beta, ulong c, CudaDataType cType, int ldc, long strideC,
        int batchCount, CublasComputeType computeType, CublasGemmAlgo algo);

    /// <summary>
    /// Our own name table: cublasGetStatusName only exists from cuBLAS 11.4.2, and a name must be available even when
    /// the failing call is the library load itself.
    /// </summary>
    public static string StatusName(CublasStatus status) => status switch
    {
        CublasStatus.Success => "CUBLAS_STATUS_SUCCESS",
        CublasStatus.NotInitialized => "CUBLAS_STATUS_NOT_INITIALIZED",
        CublasStatus.AllocFailed => "CUBLAS_STATUS_ALLOC_FAILED",
        CublasStatus.InvalidValue => "CUBLAS_STATUS_INVALID_VALUE",
        CublasStatus.ArchMismatch => "CUBLAS_STATUS_ARCH_MISMATCH",
        CublasStatus.MappingError => "CUBLAS_STATUS_MAPPING_ERROR",
        CublasStatus.ExecutionFailed => "CUBLAS_STATUS_EXECUTION_FAILED",
        CublasStatus.InternalError => "CUBLAS_STATUS_INTERNAL_ERROR",
        CublasStatus.NotSupported => "CUBLAS_STATUS_NOT_SUPPORTED",
        CublasStatus.LicenseError => "CUBLAS_STATUS_LICENSE_ERROR",
        _ => $"CUBLAS_STATUS_{(int)status}",
    };
}
