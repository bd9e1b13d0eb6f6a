using System.CommandLine;
using PromptAD.Cli;
using PromptAD.Kernels;
using PromptAD.Pipeline;

namespace PromptAD.Tests.Cli;

/// <summary>
/// `--device` and `--precision` are read once, at the command line, into a typed <see cref="ComputeDevice"/>: a name
/// outside the choices is one usage error naming the option and every accepted value, before the verb does anything.
/// </summary>
[Collection("Console")]
public sealed class DeviceOptionTests
{
    private static (int Code, string Out, string Err) Cli(params string[] args) => ConsoleCapture.Run(() => PromptAD.Program.Main(args));

    [Theory]
    [InlineData("demo")]
    [InlineData("train")]
    [InlineData("test")]
    [InlineData("predict")]
    [InlineData("calibrate")]
    [InlineData("serve")]
    [InlineData("run")]
    [InlineData("encode")]
    [InlineData("bench", "clip")]
    [InlineData("bench", "e2e")]
    [InlineData("bench", "serve")]
    public void AnUnknownDeviceOrPrecisionNamesTheOptionAndItsChoices(params string[] verb)
    {
        var (code, output, err) = Cli([.. verb, "--device", "tpu"]);
        Assert.True(code == 2, output + err);
        Assert.Contains("--device: 'tpu' is not one of cpu, cuda", err);
        (code, output, err) = Cli([.. verb, "--precision", "fp16"]);
        Assert.True(code == 2, output + err);
        Assert.Contains("--precision: 'fp16' is not one of fp32, tf32, bf16", err);
    }

    [Theory]
    [InlineData("profile")]
    [InlineData("bench", "precision")]
    public void TheGpuVerbsOfferTheEmulatedGpuInsteadOfTheCpu(params string[] verb)
    {
        var (code, _, err) = Cli([.. verb, "--device", "cpu"]);
        Assert.Equal(2, code);
        Assert.Contains("--device: 'cpu' is not one of cuda, emulated", err);
    }

    [Fact]
    public void TheParsedValueIsTheTypedDevice()
    {
        var plain = BackendChoice.CreateOptions();
        var command = new RootCommand();
        plain.AddTo(command);
        Assert.Equal(ComputeDevice.Cpu, plain.Value(command.Parse([])));
        Assert.Equal(new ComputeDevice(DeviceKind.Cuda, GemmPrecision.Bf16), plain.Value(command.Parse(["--device", "cuda", "--precision", "bf16"])));
        Assert.Equal(new ComputeDevice(DeviceKind.Cuda, GemmPrecision.Tf32), plain.Value(command.Parse(["--device", "cuda", "--precision", "tf32"])));
        var cpuBf16 = command.Parse(["--precision", "bf16"]);
        Assert.Contains(cpuBf16.Errors, e => e.Message == "--precision bf16 needs --device cuda: the CPU computes in fp32 only");

        var gpu = BackendChoice.CreateGpuOptions(defaultPrecision: "bf16", reducedOnly: true);
        var gpuCommand = new RootCommand();
        gpu.AddTo(gpuCommand);
        var emulated = gpu.Value(gpuCommand.Parse(["--device", "emulated", "--emulator", "/x/libpromptad_emu.so"]));
        Assert.Equal((DeviceKind.Emulated, GemmPrecision.Bf16, "/x/libpromptad_emu.so"), (emulated.Kind, emulated.Precision, emulated.Emulator?.FullName));
        Assert.Equal(new ComputeDevice(DeviceKind.Cuda, GemmPrecision.Bf16), gpu.Value(gpuCommand.Parse([])));
        Assert.NotEmpty(gpuCommand.Parse(["--precision", "fp32"]).Errors);
    }

    [Fact]
    public void NamesAreTheCommandLineSpellings()
    {
        Assert.Equal(["cpu", "cuda", "emulated"], Enum.GetValues<DeviceKind>().Select(k => k.Name()));
        Assert.Equal("cuda", new ComputeDevice(DeviceKind.Cuda).Name);
    }

    [Fact]
    public void AReducedPrecisionOnTheCpuIsRefusedForDirectCallersToo()
    {
        var e = Assert.Throws<ArgumentException>(() => BackendChoice.Create(new ComputeDevice(DeviceKind.Cpu, GemmPrecision.Tf32)));
        Assert.Equal("--precision tf32 needs --device cuda: the CPU computes in fp32 only", e.Message);
    }
}
