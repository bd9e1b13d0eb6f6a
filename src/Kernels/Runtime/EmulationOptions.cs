namespace PromptAD.Kernels;

/// <summary>The order in which the emulated GPU runs the threads of a block between barriers, and the blocks of a grid.</summary>
public enum EmulatedSchedule
{
    /// <summary>Lowest index first (hides a missing barrier whenever the writer has the lower index).</summary>
    Ascending,
    /// <summary>Highest index first (hides the hazards of the other direction).</summary>
    Descending,
    /// <summary>A permutation drawn from <see cref="EmulationOptions.Seed"/> for every round between barriers and every grid.</summary>
    Random,
}

/// <summary>
/// How <see cref="EmulatedRuntime"/> runs: which schedule, whether device memory is strict (every allocation of exactly
/// its size, followed by a guard page: an overrun faults and is reported with the kernel and its arguments) and whether
/// queued work is deferred until a synchronization (host reads that do not wait then see poison). Shared-memory
/// poisoning, the dynamic shared memory canary, warp-collective checks and argument checks are always on.
/// </summary>
/// <param name="Deferred">Queued work (kernels, GEMMs, copies, memsets) runs only at a synchronization, a fence wait, a
/// blocking copy, a free or a graph launch; a fence reports "not reached" until then; the page-locked destination of an
/// asynchronous copy is filled with NaN when the copy is queued.</param>
public sealed record EmulationOptions(EmulatedSchedule Schedule = EmulatedSchedule.Ascending, ulong Seed = 0, bool StrictMemory = true,
    bool Deferred = false)
{
    /// <summary>Ascending order, strict memory, work run when queued.</summary>
    public static EmulationOptions Default { get; } = new();

    public override string ToString() =>
        $"{Schedule.ToString().ToLowerInvariant()}{(Schedule == EmulatedSchedule.Random ? $" (seed {Seed})" : "")}" +
        $"{(StrictMemory ? ", strict memory" : "")}{(Deferred ? ", deferred" : "")}";
}
