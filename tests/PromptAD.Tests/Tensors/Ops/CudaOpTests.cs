using PromptAD.Kernels;
using PromptAD.Tensors;
using PromptAD.Tests.Requirements;

namespace PromptAD.Tests.Ops;

/// <summary>The op table on the real GPU in FP32. Skips, with the reason, where there is no driver or device
/// (fails instead with PROMPTAD_REQUIRE_GPU=1).</summary>
public sealed class CudaOpTests : DeviceBackendOpTests
{
    private static readonly Lazy<(CudaBackend? Backend, string Reason)> Shared = new(() =>
        CudaBackend.TryCreate(out CudaBackend? backend, out string reason) ? (backend, "") : (null, reason));

    protected override IBackend? Backend(out string? skipReason)
    {
        var (backend, reason) = Shared.Value;
        if (backend is null) OptionalPart.CudaGpu.Unavailable(reason);
        skipReason = null;
        return backend;
    }
}

/// <summary>
/// The op table on the real GPU with TF32 tensor-core GEMMs (cuBLAS math mode). Stated tolerance: 100× the FP32
/// ones — TF32 rounds GEMM inputs to 10 mantissa bits (relative ~5e-4 per product, accumulated in FP32).
/// </summary>
public sealed class CudaTf32OpTests : DeviceBackendOpTests
{
    private static readonly Lazy<(CudaBackend? Backend, string Reason)> Shared = new(() =>
        CudaBackend.TryCreate(out CudaBackend? backend, out string reason, GemmPrecision.Tf32) ? (backend, "") : (null, reason));

    protected override double ToleranceScale => 100.0;

    protected override IBackend? Backend(out string? skipReason)
    {
        var (backend, reason) = Shared.Value;
        if (backend is null) OptionalPart.CudaGpu.Unavailable(reason);
        skipReason = null;
        return backend;
    }
}
