namespace PromptAD.Kernels;

/// <summary>
/// Live allocations by address, for the emulated GPU's checks: which allocation (if any) an address falls in, so a
/// memory fault names the buffer it missed and a graph replay can refuse pointers whose memory is gone.
/// Not thread-safe: the caller locks.
/// </summary>
internal sealed class AllocationMap
{
    private readonly SortedList<ulong, ulong> sizes = [];

    public int Count => sizes.Count;

    public void Add(ulong start, ulong bytes) => sizes.Add(start, bytes);

    public bool Remove(ulong start, out ulong bytes) => sizes.TryGetValue(start, out bytes) && sizes.Remove(start);

    public bool TryGetSize(ulong start, out ulong bytes) => sizes.TryGetValue(start, out bytes);

    /// <summary>The allocation at or below <paramref name="address"/> (the nearest start not above it).</summary>
    public bool Below(ulong address, out ulong start, out ulong bytes)
    {
        IList<ulong> keys = sizes.Keys;
        int lo = 0, hi = keys.Count - 1, found = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >> 1;
            if (keys[mid] <= address) { found = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        start = found >= 0 ? keys[found] : 0;
        bytes = found >= 0 ? sizes.Values[found] : 0;
        return found >= 0;
    }

    /// <summary>Whether <paramref name="address"/> lies in a live allocation (its end included: an empty view there).</summary>
    public bool Contains(ulong address) => Below(address, out ulong start, out ulong bytes) && address <= start + bytes;

    /// <summary>Where <paramref name="address"/> is relative to the allocations, in words, for error messages.</summary>
    public string Describe(ulong address)
    {
        if (!Below(address, out ulong start, out ulong bytes))
            return sizes.Count == 0 ? $"0x{address:x} (no allocation is live)" : $"0x{address:x}, below every live allocation";
        if (address < start + bytes) return $"0x{address:x}, {address - start} bytes into the allocation at 0x{start:x} ({bytes} bytes)";
        return $"0x{address:x}, {address - (start + bytes)} bytes past the end of the allocation at 0x{start:x} ({bytes} bytes)";
    }
}
