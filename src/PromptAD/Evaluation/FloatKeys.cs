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

    /// <summary>Sorts <paramref name="keys"/> ascending, applying the same permutation to <paramref name="payload"/> when given.</summary>
    public static void Sort(uint[] keys, int[]? payload)
    {
        if (keys.Length < 2)
        {
            return;
        }

        Sort(keys, payload, new uint[keys.Length], payload is null ? null : new int[keys.Length]);
    }

    /// <summary>
    /// Sorts <paramref name="keys"/> ascending (stable), applying the same permutation to <paramref name="payload"/>
    /// when given; the scratch spans (at least as long) let a caller that sorts many times reuse its memory.
    /// </summary>
    public static void Sort(Span<uint> keys, Span<int> payload, Span<uint> keyScratch, Span<int> payloadScratch)
    {
        int n = keys.Length;
        if (n < 2)
        {
            return;
        }

        bool withPayload = !payload.IsEmpty;
        Span<int> counts = stackalloc int[256];
        Span<uint> src = keys, dst = keyScratch[..n];
        Span<int> srcPayload = withPayload ? payload[..n] : default, dstPayload = withPayload ? payloadScratch[..n] : default;
        bool inScratch = false;
        for (int shift = 0; shift < 32; shift += 8)
        {
            counts.Clear();
            foreach (uint k in src)
            {
                counts[(int)((k >> shift) & 0xFF)]++;
            }

            // A byte shared by every key leaves the order unchanged: skip the pass (common for scores in [0, 1]).
            if (counts[(int)((src[0] >> shift) & 0xFF)] == n)
            {
                continue;
            }

            int sum = 0;
            for (int b = 0; b < 256; b++)
            {
                int c = counts[b];
                counts[b] = sum;
                sum += c;
            }

            for (int i = 0; i < n; i++)
            {
                int slot = counts[(int)((src[i] >> shift) & 0xFF)]++;
                dst[slot] = src[i];
                if (withPayload)
                {
                    dstPayload[slot] = srcPayload[i];
                }
            }

            Span<uint> t = src;
            src = dst;
            dst = t;
            Span<int> tp = srcPayload;
            srcPayload = dstPayload;
            dstPayload = tp;
            inScratch = !inScratch;
        }

        if (inScratch)
        {
            src.CopyTo(keys);
            if (withPayload)
            {
                srcPayload.CopyTo(payload);
            }
        }
    }
}
