using PromptAD.Kernels.Native;

namespace PromptAD.Tests.Kernels;

/// <summary>
/// CI installs NVRTC, so a missing NVRTC there is a setup bug and must fail loudly with the resolver's explanation.
/// A developer without it can opt out with PROMPTAD_ALLOW_NO_NVRTC=1, which turns the NVRTC tests into skips.
/// </summary>
internal static class NvrtcRequirement
{
    public static void Ensure()
    {
        if (CudaLibraryResolver.TryRequire(CudaLibraryResolver.NvrtcName, out _, out CudaLibraryNotFoundException? error)) return;
        if (Environment.GetEnvironmentVariable("PROMPTAD_ALLOW_NO_NVRTC") == "1")
            Assert.Skip("NVRTC is not installed and PROMPTAD_ALLOW_NO_NVRTC=1: " + error!.Message);
        Assert.Fail(error!.Message + "\n(Set PROMPTAD_ALLOW_NO_NVRTC=1 to skip the NVRTC tests on a machine without it.)");
    }
}
