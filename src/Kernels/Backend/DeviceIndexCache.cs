using System.Runtime.InteropServices;

namespace PromptAD.Kernels;

/// <summary>
/// Index arrays (gather/scatter rows, splice maps, class targets) kept on the device by content: a training step
/// uses the same few arrays every epoch (its prompt set's layout), so each is uploaded once and later calls find it
/// by hash and an exact comparison with the kept host copy. Least recently used entries beyond
/// <see cref="Capacity"/> give their block back to the pool; the stream orders that reuse after the kernels that read it.
/// An entry read by a captured graph is never evicted: every replay of the graph reads it again.
/// </summary>
internal sealed unsafe class DeviceIndexCache(IDeviceRuntime runtime, DeviceMemoryPool pool) : IDisposable
{
    public const int Capacity = 512;

    private sealed class Entry(int[] host, ulong pointer)
    {
        public int[] Host { get; } = host;
        public ulong Pointer { get; } = pointer;
        public long LastUse { get; set; }

        /// <summary>Used during a graph capture: the graph reads this address on every replay.</summary>
        public bool Pinned { get; set; }
    }

    private readonly Dictionary<(int Length, int Hash), List<Entry>> entries = [];
    private int count;
    private long clock;

    /// <summary>The device address of an array with these contents, uploading it on first use.</summary>
    public ulong Get(ReadOnlySpan<int> indices)
    {
        var h = new HashCode();
        h.AddBytes(MemoryMarshal.AsBytes(indices));
        var key = (indices.Length, h.ToHashCode());
        lock (entries)
        {
            if (entries.TryGetValue(key, out var list))
                foreach (var e in list)
                    if (e.Host.AsSpan().SequenceEqual(indices))
                    {
                        e.LastUse = ++clock;
                        e.Pinned |= pool.IsCapturing;
                        return e.Pointer;
                    }
            if (count >= Capacity) EvictOldest();
            ulong p = pool.Rent((ulong)Math.Max(1, indices.Length) * sizeof(int));
            fixed (int* source = indices) runtime.CopyHtoD(p, source, (ulong)indices.Length * sizeof(int));
            if (list is null) entries[key] = list = [];
            list.Add(new Entry(indices.ToArray(), p) { LastUse = ++clock });
            count++;
            return p;
        }
    }

    private void EvictOldest()
    {
        var (oldestKey, oldest) = entries.SelectMany(kv => kv.Value.Where(e => !e.Pinned).Select(e => (kv.Key, e))).MinBy(x => x.e.LastUse);
        if (oldest is null) return; // all pinned by graphs: grow instead
        var list = entries[oldestKey];
        list.Remove(oldest);
        if (list.Count == 0) entries.Remove(oldestKey);
        count--;
        pool.Return(oldest.Pointer);
    }

    public void Dispose()
    {
        lock (entries)
        {
            foreach (var e in entries.Values.SelectMany(l => l)) pool.Return(e.Pointer);
            entries.Clear();
            count = 0;
        }
    }
}
