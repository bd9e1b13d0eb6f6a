namespace PromptAD.Kernels;

/// <summary>
/// Work recorded by <see cref="IDeviceRuntime.BeginCapture"/>/<see cref="IDeviceRuntime.EndCapture"/>, launched by
/// <see cref="IDeviceRuntime.LaunchGraph"/>. It replays the recorded kernels with the recorded arguments and pointers:
/// anything that should differ between launches must be read by the kernels from device memory.
/// </summary>
public interface IDeviceGraph : IDisposable
{
    /// <summary>What one launch runs: the kernels, GEMMs, memsets and copies recorded during the capture.</summary>
    DeviceCounts Contents { get; }
}
