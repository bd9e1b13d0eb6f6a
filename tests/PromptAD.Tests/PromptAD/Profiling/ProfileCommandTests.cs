using PromptAD.Tests.Cli;
using PromptAD.Tests.Ops;

namespace PromptAD.Tests.Profiling;

/// <summary>The README's `profile` examples through Program.Main: on the emulated GPU, and the errors without a GPU.</summary>
[Collection("Console")]
public sealed class ProfileCommandTests
{
    [Fact]
    public void ProfilesTrainingStepsAndScoringBatchesOnTheEmulatedGpu()
    {
        _ = EmulatedKernels.Runtime; // builds libpromptad_emu.so when it is missing or stale
        string library = Path.Combine(EmulatedKernels.RepositoryRoot(), "kernels", "emulation", "build", "libpromptad_emu.so");
        var (code, output, error) = VerbTests.Cli("profile", "--device", "emulated", "--emulator", library, "--backbone", "tiny-test",
            "--epochs", "2", "--batches", "1", "--batch", "1");
        Assert.True(code == 0, error);
        Assert.Contains("cuda-emulated", output);
        Assert.Matches(@"train image step 2 +\d+", output);
        Assert.Matches(@"train pixel step 2 +\d+", output);
        Assert.Matches(@"score batch 1 +\d+", output);
        Assert.Contains("memory pool: in use", output);

        // --no-fusion counts the unfused composition: more launches per training step (kernels, GEMMs) for the same work.
        var (codeUnfused, unfused, errorUnfused) = VerbTests.Cli("profile", "--device", "emulated", "--emulator", library, "--backbone", "tiny-test",
            "--epochs", "2", "--batches", "1", "--batch", "1", "--no-fusion");
        Assert.True(codeUnfused == 0, errorUnfused);
        Assert.Contains("unfused", unfused);
        Assert.True(StepLaunches(output) < StepLaunches(unfused), $"fused:\n{output}\nunfused:\n{unfused}");
    }

    /// <summary>Kernels + GEMMs of the image head's measured step in the profile table.</summary>
    private static int StepLaunches(string output)
    {
        var m = System.Text.RegularExpressions.Regex.Match(output, @"train image step 2 +(\d+) +(\d+)");
        Assert.True(m.Success, output);
        return int.Parse(m.Groups[1].Value) + int.Parse(m.Groups[2].Value);
    }

    [Fact]
    public void WithoutAGpuTheDefaultDeviceFailsWithTheReason()
    {
        if (PromptAD.Kernels.CudaBackend.TryCreate(out var cuda, out _))
        {
            cuda!.Dispose();
            Assert.Skip("a CUDA device is present: the no-GPU error cannot be shown here");
        }
        var (code, _, error) = VerbTests.Cli("profile");
        Assert.Equal(1, code);
        Assert.Contains("--device cuda: no usable CUDA device", error);
    }

    [Theory]
    [InlineData("--epochs", "1", "--epochs must be at least 2")]
    [InlineData("--device", "emulated", "--emulator")]
    public void BadOptionsAreUsageErrors(string option, string value, string message)
    {
        string? saved = Environment.GetEnvironmentVariable("PROMPTAD_EMULATOR");
        if (saved is not null && option == "--device") Assert.Skip("PROMPTAD_EMULATOR is set in this environment");
        var (code, _, error) = VerbTests.Cli("profile", option, value);
        Assert.Equal(2, code);
        Assert.Contains(message, error);
    }
}
