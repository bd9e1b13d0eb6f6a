namespace PromptAD.Evaluation;

/// <summary>
/// Maps floats to unsigned keys whose unsigned order is the float order, and sorts them with an LSD radix
/// sort. Pixel metrics sort ~13 million scores per category; a 4-pass radix sort is several times faster
/// than a comparison sort and its cost does not depend on how many ties there are.
/// </summary>
internal static class FloatKeys
{
    /// <summary>Order-preserving key. −0 is folded into +0 so that the two compare equal, as they do as floats.</summary>
    public static uint ToKey(float value, string what)
    {
        if (float.IsNaN(value))
        {
            throw new ArgumentException($"{what} contains NaN; metrics need every score to be a number.");
        }

        uint bits = BitConverter.SingleToUInt32Bits(value == 0f ? 0f : value);
        return (bits & 0x8000_0000u) != 0 ? ~bits : bits | 0x8000_0000u;
    }

    /// <summary>Below this many keys one thread sorts (the per-pass fork/join costs more than it saves).</summary>
    private const int ParallelMinimum = 1 << 16;

    /// <summary>Sorts <paramref name="keys"/> ascending, applying the same permutation to <paramref name="payload"/> when given.</summary>
    public static void Sort(uint[] keys, int[]? payload)
    {
        if (keys.Length < 2)
        {
            return;
        }

        Sort(keys, payload, keys.Length, new uint[keys.Length], payload is null ? null : new int[keys.Length]);
    }

    /// <summary>
    /// Sorts the first <paramref name="count"/> keys ascending, applying the same permutation to
    /// <paramref name="payload"/> when given; the scratch arrays (at least <paramref name="count"/> long) let a caller
    /// that sorts many times reuse its memory. Stable, so equal keys keep their input order (the metrics' sums over
    /// ties run in a fixed order). Each pass is split over the cores: every chunk counts its bytes, the chunks' output
    /// slots follow bucket by bucket in chunk order, and every chunk scatters its own keys — the same permutation as
    /// one thread's.
    /// </summary>
    public static void Sort(uint[] keys, int[]? payload, int count, uint[] keyScratch, int[]? payloadScratch)
    {
        int n = count;
        if (n < 2)
        {
            return;
        }

        if (payload is not null && payloadScratch is null)
        {
            throw new ArgumentNullException(nameof(payloadScratch), "a payload needs payload scratch");
        }

        int chunks = n < ParallelMinimum ? 1 : Math.Max(1, Math.Min(Environment.ProcessorCount, n / (ParallelMinimum / 4)));
        int chunkSize = (n + chunks - 1) / chunks;
        var counts = new int[chunks * 256];
        uint[] src = keys, dst = keyScratch;
        int[]? srcPayload = payload, dstPayload = payloadScratch;
        for (int shift = 0; shift < 32; shift += 8)
        {
            Array.Clear(counts);
            uint[] from = src;
            Parallel.For(0, chunks, c =>
            {
                int end = Math.Min(n, (c + 1) * chunkSize);
                var mine = counts.AsSpan(c * 256, 256);
                for (int i = c * chunkSize; i < end; i++)
                {
                    mine[(int)((from[i] >> shift) & 0xFF)]++;
                }
            });

            // A byte shared by every key leaves the order unchanged: skip the pass (common for scores in [0, 1]).
            int first = (int)((src[0] >> shift) & 0xFF), same = 0;
            for (int c = 0; c < chunks; c++)
            {
                same += counts[c * 256 + first];
            }

            if (same == n)
            {
                continue;
            }

            int sum = 0;
            for (int b = 0; b < 256; b++)
            {
                for (int c = 0; c < chunks; c++)
                {
                    int k = counts[c * 256 + b];
                    counts[c * 256 + b] = sum;
                    sum += k;
                }
            }

            uint[] to = dst;
            int[]? fromPayload = srcPayload, toPayload = dstPayload;
            Parallel.For(0, chunks, c =>
            {
                int end = Math.Min(n, (c + 1) * chunkSize);
                var slots = counts.AsSpan(c * 256, 256);
                for (int i = c * chunkSize; i < end; i++)
                {
                    int slot = slots[(int)((from[i] >> shift) & 0xFF)]++;
                    to[slot] = from[i];
                    if (fromPayload is not null)
                    {
                        toPayload![slot] = fromPayload[i];
                    }
                }
            });

            (src, dst) = (dst, src);
            (srcPayload, dstPayload) = (dstPayload, srcPayload);
        }

        if (!ReferenceEquals(src, keys))
        {
            Array.Copy(src, keys, n);
            if (payload is not null)
            {
                Array.Copy(srcPayload!, payload, n);
            }
        }
    }
}
