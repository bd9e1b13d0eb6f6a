using System.CommandLine;
using PromptAD.Kernels;
using PromptAD.Pipeline;

namespace PromptAD.Cli;

/// <summary>
/// A verb's `--device` and `--precision` options (and `--emulator` where the emulated GPU is offered), read once into
/// one <see cref="ComputeDevice"/>: an unknown name, or a reduced precision on the CPU, is a usage error naming the
/// option and what it accepts before the verb runs.
/// </summary>
internal sealed class DeviceOptions
{
    public DeviceOptions(ChoiceOption<DeviceKind> device, ChoiceOption<GemmPrecision> precision, Option<FileInfo?>? emulator = null)
    {
        Device = device;
        Precision = precision;
        Emulator = emulator;
    }

    public ChoiceOption<DeviceKind> Device { get; }
    public ChoiceOption<GemmPrecision> Precision { get; }
    public Option<FileInfo?>? Emulator { get; }

    /// <summary>Adds the options to <paramref name="command"/> with the check that needs both of them.</summary>
    public void AddTo(Command command)
    {
        command.Options.Add(Device);
        command.Options.Add(Precision);
        if (Emulator is not null) command.Options.Add(Emulator);
        command.Validators.Add(result =>
        {
            // Only between valid names: an unknown one is its own option's error.
            string device = Device.NameIn(result), precision = Precision.NameIn(result);
            if (device == DeviceKind.Cpu.Name() && Device.IsChoice(device) && Precision.IsChoice(precision) && precision != GemmPrecision.Fp32.Name())
                result.AddError(BackendChoice.CpuPrecisionError(precision));
        });
    }

    /// <summary>The device the command line chose.</summary>
    public ComputeDevice Value(ParseResult parse) =>
        new(Device.Value(parse), Precision.Value(parse), Emulator is null ? null : parse.GetValue(Emulator));
}
