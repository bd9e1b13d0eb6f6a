using PromptAD.Kernels.Native;

namespace PromptAD.Kernels;

/// <summary>
/// A cuBLAS handle bound to a stream. cuBLAS frees through its own API, not the driver's, so
/// <see cref="ContextBoundHandle.Free"/> maps its status onto a CUresult for the SafeHandle contract.
/// </summary>
public sealed class CublasHandle : ContextBoundHandle
{
    public CublasHandle(CudaContext context, CudaStream? stream = null, CublasMath math = CublasMath.Default) : base(context)
    {
        CudaLibraryResolver.Require(CudaLibraryResolver.CublasName);
        context.MakeCurrent();
        CublasStatus s = Cublas.cublasCreate_v2(out nint h);
        if (s != CublasStatus.Success) ReleaseContextReference();
        CublasException.Check(s, "cublasCreate_v2");
        SetHandle(h);
        if (stream is not null) SetStream(stream);
        SetMathMode(math);
    }

    public nint Handle => handle;

    public void SetStream(CudaStream stream) => CublasException.Check(Cublas.cublasSetStream_v2(handle, stream.Handle), "cublasSetStream_v2");

    /// <summary>Default keeps full FP32; <see cref="CublasMath.Tf32TensorOp"/> trades mantissa bits for tensor-core speed.</summary>
    public void SetMathMode(CublasMath mode) => CublasException.Check(Cublas.cublasSetMathMode(handle, mode), "cublasSetMathMode");

    protected override CUresult Free() => Cublas.cublasDestroy_v2(handle) == CublasStatus.Success ? CUresult.Success : CUresult.Unknown;
}
