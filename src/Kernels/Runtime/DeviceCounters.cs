using System.Text;

namespace PromptAD.Kernels;

/// <summary>
/// What a device runtime has done, by kind, since it was created: the evidence for "no allocation, no
/// synchronization, no host copy inside a step". Both runtimes count the same calls at the same places, so the
/// emulated GPU measures the real backend's behaviour. Thread-safe (finalizers free memory on their own thread).
/// </summary>
public sealed class DeviceCounters
{
    private long kernelLaunches, gemms, graphLaunches, allocations, frees, htoD, htoDBytes, dtoH, dtoHBytes, dtoD, memsets, syncs;

    internal void KernelLaunch() => Interlocked.Increment(ref kernelLaunches);
    internal void Gemm() => Interlocked.Increment(ref gemms);
    internal void GraphLaunch() => Interlocked.Increment(ref graphLaunches);
    internal void Allocation() => Interlocked.Increment(ref allocations);
    internal void Free() => Interlocked.Increment(ref frees);
    internal void DeviceToDevice() => Interlocked.Increment(ref dtoD);
    internal void Memset() => Interlocked.Increment(ref memsets);
    internal void Synchronization() => Interlocked.Increment(ref syncs);

    internal void HostToDevice(ulong bytes)
    {
        Interlocked.Increment(ref htoD);
        Interlocked.Add(ref htoDBytes, (long)bytes);
    }

    internal void DeviceToHost(ulong bytes)
    {
        Interlocked.Increment(ref dtoH);
        Interlocked.Add(ref dtoHBytes, (long)bytes);
    }

    /// <summary>Takes back counts that were recorded into a graph rather than queued (a capture queues nothing).</summary>
    internal void Remove(DeviceCounts c)
    {
        Interlocked.Add(ref kernelLaunches, -c.KernelLaunches);
        Interlocked.Add(ref gemms, -c.Gemms);
        Interlocked.Add(ref graphLaunches, -c.GraphLaunches);
        Interlocked.Add(ref allocations, -c.Allocations);
        Interlocked.Add(ref frees, -c.Frees);
        Interlocked.Add(ref htoD, -c.HostToDevice);
        Interlocked.Add(ref htoDBytes, -c.HostToDeviceBytes);
        Interlocked.Add(ref dtoH, -c.DeviceToHost);
        Interlocked.Add(ref dtoHBytes, -c.DeviceToHostBytes);
        Interlocked.Add(ref dtoD, -c.DeviceToDevice);
        Interlocked.Add(ref memsets, -c.Memsets);
        Interlocked.Add(ref syncs, -c.Synchronizations);
    }

    public DeviceCounts Snapshot() => new(Interlocked.Read(ref kernelLaunches), Interlocked.Read(ref gemms),
        Interlocked.Read(ref graphLaunches), Interlocked.Read(ref allocations), Interlocked.Read(ref frees),
        Interlocked.Read(ref htoD), Interlocked.Read(ref htoDBytes), Interlocked.Read(ref dtoH), Interlocked.Read(ref dtoHBytes),
        Interlocked.Read(ref dtoD), Interlocked.Read(ref memsets), Interlocked.Read(ref syncs));
}

/// <summary>
/// Counts of device work. <see cref="Allocations"/>/<see cref="Frees"/> are driver calls (cuMemAlloc/cuMemFree),
/// not tensor allocations served from the backend's pool; <see cref="Synchronizations"/> include the wait of every
/// device-to-host copy. Subtract two snapshots for the work in between.
/// </summary>
public readonly record struct DeviceCounts(long KernelLaunches, long Gemms, long GraphLaunches, long Allocations, long Frees,
    long HostToDevice, long HostToDeviceBytes, long DeviceToHost, long DeviceToHostBytes, long DeviceToDevice, long Memsets,
    long Synchronizations)
{
    /// <summary>Everything queued on the stream one by one: kernels, GEMMs, device copies and memsets (a graph replay is one).</summary>
    public long Launches => KernelLaunches + Gemms + GraphLaunches + DeviceToDevice + Memsets;

    public static DeviceCounts operator -(DeviceCounts a, DeviceCounts b) => new(a.KernelLaunches - b.KernelLaunches,
        a.Gemms - b.Gemms, a.GraphLaunches - b.GraphLaunches, a.Allocations - b.Allocations, a.Frees - b.Frees,
        a.HostToDevice - b.HostToDevice, a.HostToDeviceBytes - b.HostToDeviceBytes, a.DeviceToHost - b.DeviceToHost,
        a.DeviceToHostBytes - b.DeviceToHostBytes, a.DeviceToDevice - b.DeviceToDevice, a.Memsets - b.Memsets,
        a.Synchronizations - b.Synchronizations);

    /// <summary>Column names of <see cref="Cells"/>.</summary>
    public static readonly string[] Columns =
        ["kernels", "gemms", "graphs", "memsets", "dtod", "alloc", "free", "htod", "htod_bytes", "dtoh", "dtoh_bytes", "syncs"];

    public long[] Cells() => [KernelLaunches, Gemms, GraphLaunches, Memsets, DeviceToDevice, Allocations, Frees,
        HostToDevice, HostToDeviceBytes, DeviceToHost, DeviceToHostBytes, Synchronizations];

    public override string ToString()
    {
        var s = new StringBuilder();
        var cells = Cells();
        for (int i = 0; i < cells.Length; i++) s.Append(i == 0 ? "" : " ").Append(Columns[i]).Append('=').Append(cells[i]);
        return s.ToString();
    }
}
