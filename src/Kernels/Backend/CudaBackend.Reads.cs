using PromptAD.Tensors;

namespace PromptAD.Kernels;

// Reads that do not stall the stream: values gathered on the device, one queued copy into a page-locked slot, a fence.
public sealed unsafe partial class CudaBackend
{
    /// <summary>Floats per pinned slot; larger reads are done on the spot.</summary>
    private const int ReadSlotFloats = 64, ReadSlots = 64;
    private float* readSlab;
    private readonly Stack<int> freeReadSlots = new();

    public PendingRead ReadLater(ReadOnlySpan<Tensor> sources)
    {
        long total = 0;
        foreach (var t in sources) total += t.Length;
        lock (freeReadSlots)
        {
            if (readSlab is null)
            {
                readSlab = (float*)Runtime.AllocateHost((ulong)ReadSlotFloats * ReadSlots * sizeof(float));
                for (int s = ReadSlots - 1; s >= 0; s--) freeReadSlots.Push(s);
            }
            if (total > ReadSlotFloats || freeReadSlots.Count == 0) return CompletedRead.Now(sources);
            int slot = freeReadSlots.Pop();
            float* host = readSlab + (long)slot * ReadSlotFloats;
            // Gather on the device first so the host sees one copy, whatever the number of tensors.
            using var staging = Temp(total);
            ulong at = staging.Pointer;
            foreach (var t in sources)
            {
                Runtime.CopyDtoD(at, P(t, "read_later"), (ulong)t.Length * sizeof(float));
                at += (ulong)t.Length * sizeof(float);
            }
            Runtime.CopyDtoHAsync(host, staging.Pointer, (ulong)total * sizeof(float));
            return new DeviceRead(this, slot, host, (int)total, Runtime.RecordFence());
        }
    }

    private void ReleaseReadSlot(int slot)
    {
        lock (freeReadSlots) freeReadSlots.Push(slot);
    }

    private void FreeReadSlab()
    {
        lock (freeReadSlots)
        {
            if (readSlab is not null)
            {
                // A queued copy may still be writing into a slot (a read never waited for): let it land first.
                try { Runtime.Synchronize(); }
                finally { Runtime.FreeHost(readSlab); }
            }
            readSlab = null;
            freeReadSlots.Clear();
        }
    }

    private sealed class DeviceRead(CudaBackend backend, int slot, float* host, int count, ulong fence) : PendingRead
    {
        private float[]? values;

        public override bool IsReady => values is not null || backend.Runtime.FenceReached(fence);

        public override float[] Values()
        {
            if (values is not null) return values;
            if (!backend.Runtime.FenceReached(fence)) backend.Runtime.WaitFence(fence);
            values = new ReadOnlySpan<float>(host, count).ToArray();
            Release();
            return values;
        }

        private bool released;

        private void Release()
        {
            if (released) return;
            released = true;
            backend.Runtime.ReleaseFence(fence);
            backend.ReleaseReadSlot(slot);
        }

        public override void Dispose()
        {
            // An unread slot may still be written by its queued copy: wait before handing the slot to another read.
            if (!released && !backend.Runtime.FenceReached(fence)) backend.Runtime.WaitFence(fence);
            Release();
            base.Dispose();
        }
    }
}
