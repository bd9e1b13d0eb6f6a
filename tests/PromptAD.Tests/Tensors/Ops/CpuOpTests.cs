using PromptAD.Tensors;
using PromptAD.Tensors.Cpu;

namespace PromptAD.Tests.Ops;

/// <summary>The op table on the CPU backend (the reference backend), against the scalar references.</summary>
public sealed class CpuOpTests : BackendOpTests
{
    protected override IBackend? Backend(out string? skipReason)
    {
        skipReason = null;
        return CpuBackend.Instance;
    }
}
