using PromptAD.Kernels;
using PromptAD.Kernels.Native;

namespace PromptAD.Tests.Kernels;

/// <summary>Error messages name the failing call and the status, with or without a driver to ask for names.</summary>
public class KernelExceptionTests
{
    [Fact]
    public void CudaExceptionNamesCallAndResult()
    {
        var e = new CudaException("cuMemAlloc_v2", CUresult.OutOfMemory, "allocating 42 bytes");
        Assert.Contains("cuMemAlloc_v2", e.Message);
        Assert.True(e.Message.Contains("CUDA_ERROR_OUT_OF_MEMORY", StringComparison.Ordinal) || e.Message.Contains("OutOfMemory", StringComparison.Ordinal), e.Message);
        Assert.Contains("allocating 42 bytes", e.Message);
        Assert.Equal(CUresult.OutOfMemory, e.Result);
        CudaException.Check(CUresult.Success, "cuInit");
        Assert.Throws<CudaException>(() => CudaException.Check(CUresult.InvalidValue, "cuInit"));
    }

    [Fact]
    public void CublasExceptionNamesCallAndStatus()
    {
        var e = Assert.Throws<CublasException>(() => CublasException.Check(CublasStatus.InvalidValue, "cublasSgemm_v2"));
        Assert.Equal("cublasSgemm_v2 failed with CUBLAS_STATUS_INVALID_VALUE", e.Message);
        Assert.Equal("CUBLAS_STATUS_123", Cublas.StatusName((CublasStatus)123));
    }

    [Fact]
    public void NvrtcExceptionCarriesFileAndLog()
    {
        var e = new NvrtcException("nvrtcCompileProgram", NvrtcResult.Compilation, "x.cu", "x.cu(3): error: oops\n");
        Assert.Contains("nvrtcCompileProgram", e.Message);
        Assert.Contains("x.cu", e.Message);
        Assert.Contains("x.cu(3): error: oops", e.Message);
        Assert.Equal("x.cu(3): error: oops\n", e.Log);
    }
}
