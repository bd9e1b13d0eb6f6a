using PromptAD.Kernels;
using PromptAD.Tensors;

namespace PromptAD.Tests.Ops;

/// <summary>
/// The op table on <see cref="CudaBackend"/> over the CPU emulation of our kernels: tests the backend's kernel
/// composition, launch shapes and argument order — and the kernels' arithmetic — without a GPU.
/// </summary>
public sealed class EmulatedGpuOpTests : DeviceBackendOpTests
{
    private static readonly Lazy<CudaBackend> Shared = new(() => new CudaBackend(EmulatedKernels.Runtime, ownsRuntime: false));

    protected override IBackend? Backend(out string? skipReason)
    {
        skipReason = null;
        return Shared.Value;
    }
}
