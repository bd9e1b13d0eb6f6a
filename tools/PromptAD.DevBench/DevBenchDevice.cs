using PromptAD.Bench;
using PromptAD.Kernels;
using PromptAD.Pipeline;

namespace PromptAD.DevBench;

/// <summary>The device of a comparison: --device cpu|cuda and --precision fp32|tf32|bf16, spelled as `promptad bench` spells them.</summary>
internal static class DevBenchDevice
{
    public static ComputeDevice Of(IReadOnlyList<string> args)
    {
        string name = BenchArgs.String(args, "--device") ?? DeviceKind.Cpu.Name();
        var kind = Enum.GetValues<DeviceKind>().Where(k => k != DeviceKind.Emulated && k.Name() == name).Cast<DeviceKind?>().FirstOrDefault()
            ?? throw new ArgumentException($"--device: '{name}' is not one of cpu, cuda");
        return new ComputeDevice(kind, GemmPrecisions.Parse(BenchArgs.String(args, "--precision") ?? GemmPrecision.Fp32.Name()));
    }
}
