using PromptAD.Kernels;
using PromptAD.Tensors;

namespace PromptAD.Tests.Ops;

/// <summary>The op table on the real GPU. Skips, with the reason, where there is no driver or device.</summary>
public sealed class CudaOpTests : BackendOpTests
{
    private static readonly Lazy<(CudaBackend? Backend, string Reason)> Shared = new(() =>
        CudaBackend.TryCreate(out CudaBackend? backend, out string reason) ? (backend, "") : (null, "No CUDA GPU: " + reason));

    protected override IBackend? Backend(out string? skipReason)
    {
        var (backend, reason) = Shared.Value;
        skipReason = backend is null ? reason : null;
        return backend;
    }
}
