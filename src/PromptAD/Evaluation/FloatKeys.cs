using System.Runtime.CompilerServices;

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

        return KeyOf(value);
    }

    /// <summary><see cref="ToKey"/> of a value known not to be NaN, without branches on the sign: a negative value's
    /// bits all flip, a positive one's sign bit is set (−0 and +0 both become 0x8000_0000).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint KeyOf(float value)
    {
        uint bits = value == 0f ? 0u : BitConverter.SingleToUInt32Bits(value);
        return bits ^ (uint)(((int)bits >> 31) | int.MinValue);
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

    /// <summary>Segments up to this long are sorted by insertion (two 256-slot histograms cost more).</summary>
    private const int InsertionMaximum = 32;

    /// <summary>
    /// Sorts each segment [bounds[s], bounds[s + 1]) of <paramref name="keys"/> (keys that share their top 16 bits) on
    /// its keys' low 16 bits, stably, applying the same permutation to <paramref name="payload"/>; the scratch arrays
    /// (as long as the keys) are used at the segments' own offsets. Segments are independent, so they are shared out
    /// over the cores in groups of about equal size.
    /// </summary>
    public static void SortLowBitsOfSegments(uint[] keys, int[]? payload, int[] bounds, uint[] keyScratch, int[]? payloadScratch)
    {
        int segments = bounds.Length - 1, n = segments > 0 ? bounds[segments] : 0;
        if (n > keys.Length || n > keyScratch.Length || n > (payload?.Length ?? n) || n > (payloadScratch?.Length ?? n))
            throw new ArgumentException($"the segments cover {n} keys, more than the arrays hold");
        if (payload is not null && payloadScratch is null)
            throw new ArgumentNullException(nameof(payloadScratch), "a payload needs payload scratch");
        int groups = n < ParallelMinimum ? 1 : Math.Min(segments, 4 * Environment.ProcessorCount);
        if (groups <= 1)
        {
            for (int s = 0; s < segments; s++) SortLow16(keys, payload, bounds[s], bounds[s + 1], keyScratch, payloadScratch);
            return;
        }

        // Group g takes the segments that start in its g-th share of the keys.
        var firstOf = new int[groups + 1];
        for (int g = 1, s = 0; g <= groups; g++)
        {
            long limit = (long)n * g / groups;
            while (s < segments && bounds[s] < limit) s++;
            firstOf[g] = g == groups ? segments : s;
        }

        Parallel.For(0, groups, g =>
        {
            for (int s = firstOf[g]; s < firstOf[g + 1]; s++) SortLow16(keys, payload, bounds[s], bounds[s + 1], keyScratch, payloadScratch);
        });
    }

    /// <summary>keys[start..end) stably by their low 16 bits: insertion for a few, else two 8-bit counting passes
    /// (through the scratch at the same offsets), a pass skipped when every key shares its byte.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SortLow16(uint[] keys, int[]? payload, int start, int end, uint[] keyScratch, int[]? payloadScratch)
    {
        int m = end - start;
        if (m < 2) return;
        if (m <= InsertionMaximum)
        {
            for (int i = start + 1; i < end; i++)
            {
                uint k = keys[i];
                int v = payload is null ? 0 : payload[i], j = i - 1;
                for (; j >= start && keys[j] > k; j--)
                {
                    keys[j + 1] = keys[j];
                    if (payload is not null) payload[j + 1] = payload[j];
                }
                keys[j + 1] = k;
                if (payload is not null) payload[j + 1] = v;
            }
            return;
        }

        Span<int> low = stackalloc int[256], high = stackalloc int[256];
        low.Clear();
        high.Clear();
        for (int i = start; i < end; i++)
        {
            uint k = keys[i];
            low[(int)(k & 0xFF)]++;
            high[(int)((k >> 8) & 0xFF)]++;
        }

        bool sortLow = low[(int)(keys[start] & 0xFF)] != m, sortHigh = high[(int)((keys[start] >> 8) & 0xFF)] != m;
        if (sortLow && sortHigh)
        {
            Scatter(keys, payload, keyScratch, payloadScratch, start, end, 0, low);
            Scatter(keyScratch, payloadScratch, keys, payload, start, end, 8, high);
        }
        else if (sortLow || sortHigh)
        {
            Scatter(keys, payload, keyScratch, payloadScratch, start, end, sortLow ? 0 : 8, sortLow ? low : high);
            Array.Copy(keyScratch, start, keys, start, m);
            if (payload is not null) Array.Copy(payloadScratch!, start, payload, start, m);
        }
    }

    /// <summary>One stable counting pass over [start, end) on the byte at <paramref name="shift"/>, whose counts are given.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Scatter(uint[] from, int[]? fromPayload, uint[] to, int[]? toPayload, int start, int end, int shift, Span<int> counts)
    {
        int sum = start;
        for (int b = 0; b < 256; b++)
        {
            int c = counts[b];
            counts[b] = sum;
            sum += c;
        }

        if (fromPayload is null)
        {
            for (int i = start; i < end; i++)
            {
                uint k = from[i];
                to[counts[(int)((k >> shift) & 0xFF)]++] = k;
            }
            return;
        }

        for (int i = start; i < end; i++)
        {
            uint k = from[i];
            int slot = counts[(int)((k >> shift) & 0xFF)]++;
            to[slot] = k;
            toPayload![slot] = fromPayload[i];
        }
    }
}
