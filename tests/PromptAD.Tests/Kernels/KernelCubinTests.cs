using PromptAD.Kernels;
using PromptAD.Tests.Requirements;

namespace PromptAD.Tests.Kernels;

/// <summary>
/// Kernels as machine code: every file compiles to a cubin for sm_80 and sm_90 without a warning (what a device of
/// that architecture loads), and a driver older than the NVRTC gets a message saying what to install.
/// </summary>
public sealed class KernelCubinTests
{
    [Theory]
    [MemberData(nameof(KernelCompileTests.FilesAndArchitectures), MemberType = typeof(KernelCompileTests))]
    public void CompilesToACubinWithoutWarnings(string file, int architecture)
    {
        OptionalPart.Nvrtc.Require();
        var result = KernelCompiler.Compile(file, KernelSources.Read(file), architecture, KernelSources.Headers, warningsAsErrors: false, cubin: true);
        Assert.True(result.Log.Trim().Length == 0, $"{file} compiled for sm_{architecture} with a non-empty log:\n{result.Log}");
        Assert.NotNull(result.Cubin);
        Assert.Equal([0x7f, (byte)'E', (byte)'L', (byte)'F'], result.Cubin![..4]); // an ELF image, not PTX text
        Assert.Same(result.Cubin, result.Image);
    }

    [Fact]
    public void WarningsFailTheCompileOnlyWhenAskedTo()
    {
        OptionalPart.Nvrtc.Require();
        const string source = "extern \"C\" __global__ void k(float* y) { int unused; y[0] = 1.0f; }";
        Assert.Throws<NvrtcException>(() => KernelCompiler.Compile("warns_cubin.cu", source, 80, cubin: true));
        var lenient = KernelCompiler.Compile("warns_cubin.cu", source, 80, warningsAsErrors: false, cubin: true);
        Assert.Contains("unused", lenient.Log);
    }

    [Theory]
    [InlineData(11, 8, 12040, false)]
    [InlineData(12, 4, 12040, false)]
    [InlineData(12, 8, 12040, true)]
    [InlineData(13, 0, 12090, true)]
    public void ANewerNvrtcThanTheDriverIsExplained(int major, int minor, int driver, bool refused)
    {
        string? message = KernelCompiler.DriverMismatch((major, minor), driver);
        Assert.Equal(refused, message is not null);
        if (refused)
        {
            Assert.Contains($"NVRTC {major}.{minor} is newer than this driver (CUDA {driver / 1000}.{driver % 1000 / 10})", message);
            Assert.Contains("install a driver", message);
        }
    }
}
