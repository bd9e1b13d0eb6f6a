using System.CommandLine;
using System.Globalization;
using PromptAD.Clip;
using PromptAD.Kernels;
using PromptAD.Profiling;

namespace PromptAD.Cli;

/// <summary>
/// `promptad profile`: what the GPU backend asks of the device per training step and per scoring batch (launches,
/// driver allocations and frees, host copies with bytes, synchronizations) and the memory pool's peak, on a
/// random-weight model. On the emulated GPU (our kernels compiled for the CPU) the counts are the same as on a real one.
/// </summary>
internal static class ProfileCommand
{
    public const string EmulatorVariable = BackendChoice.EmulatorVariable;

    public static Command Create()
    {
        var backbone = new Option<string>("--backbone")
        {
            Description = $"backbone configuration (random weights): {string.Join(", ", ClipConfigs.Names)}",
            DefaultValueFactory = _ => DemoCommand.Backbone,
        };
        var device = BackendChoice.CreateGpuOptions();
        var epochs = new Option<int>("--epochs") { Description = "training steps per head (at least 2; the last is the steady state)", DefaultValueFactory = _ => 4 };
        var batches = new Option<int>("--batches") { Description = "scoring batches (the first warms up)", DefaultValueFactory = _ => 3 };
        var batch = new Option<int>("--batch") { Description = "images per scoring batch", DefaultValueFactory = _ => 4 };
        var noFusion = new Option<bool>("--no-fusion")
        {
            Description = "count the unfused composition instead of the fused ops (linear + activation, linear + residual, causal attention without stored scores): the baseline the fusion saves against",
        };
        var command = new Command("profile", "Counts the device's work per training step and per scoring batch (launches, allocations, copies, synchronizations) and the memory pool's peak, on random weights.")
        {
            backbone, epochs, batches, batch, noFusion,
        };
        device.AddTo(command);
        command.SetAction(p => Run(p.GetValue(backbone)!, device.Value(p), p.GetValue(epochs),
            p.GetValue(batches), p.GetValue(batch), p.GetValue(noFusion)));
        return command;
    }

    internal static int Run(string backboneName, Pipeline.ComputeDevice device, int epochs, int batches, int batch, bool noFusion = false)
    {
        if (epochs < 2) throw new ArgumentException($"--epochs must be at least 2 (a step is measured between two epochs), got {epochs}");
        if (batches < 1) throw new ArgumentException($"--batches must be at least 1, got {batches}");
        OptionRanges.Check(epochs, "--epochs", OptionRanges.Epochs);
        OptionRanges.Check(batches, "--batches", (1, 1000));
        OptionRanges.Check(batch, "--batch", OptionRanges.Batch);
        var config = ClipConfigs.Load(backboneName);
        using var backend = BackendChoice.CreateGpu(device);
        DeviceProfile profile;
        using (noFusion ? Tensors.Ops.WithoutFusion() : null)
            profile = DeviceProfiler.Run(backend, config, new DeviceProfiler.Options(Epochs: epochs, Batches: batches, BatchSize: batch));
        Console.WriteLine($"promptad profile: {config.Name}, random weights, {backend.Name} {backend.Precision.Name()}, {epochs} steps per head, {batches} batches of {batch} images{(noFusion ? ", unfused" : "")}");
        Console.Write(Format(profile));
        return 0;
    }

    internal static string Format(DeviceProfile profile)
    {
        var rows = new List<string[]>();
        rows.Add(["phase", .. DeviceCounts.Columns]);
        foreach (var phase in profile.Phases)
            rows.Add([phase.Name, .. phase.Counts.Cells().Select(c => c.ToString(CultureInfo.InvariantCulture))]);
        var widths = Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        var text = new System.Text.StringBuilder();
        foreach (var row in rows)
            text.AppendLine(string.Join("  ", row.Select((cell, c) => c == 0 ? cell.PadRight(widths[c]) : cell.PadLeft(widths[c]))));
        text.AppendLine($"memory pool: {profile.Memory}");
        return text.ToString();
    }
}
