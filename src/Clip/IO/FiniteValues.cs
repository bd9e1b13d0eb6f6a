using System.Numerics;
using System.Runtime.InteropServices;

namespace PromptAD.Clip.IO;

/// <summary>
/// Finds NaN or ±Inf in loaded tensors, so a damaged weights or model file is refused at load, naming the tensor,
/// instead of turning every score into NaN (or every verdict into "no"). The fast path multiplies by zero and sums:
/// x·0 is 0 for every finite x and NaN for NaN or ±Inf, so one vector add per element decides, and the exact index
/// is searched only when something was found.
/// </summary>
public static class FiniteValues
{
    /// <summary>The index of the first NaN or infinite value, or −1 when all are finite.</summary>
    public static long FirstNonFinite(ReadOnlySpan<float> values)
    {
        if (AllFinite(values)) return -1;
        for (int i = 0; i < values.Length; i++)
            if (!float.IsFinite(values[i])) return i;
        return -1;
    }

    public static bool AllFinite(ReadOnlySpan<float> values)
    {
        // Four accumulators: one would chain every add on the previous one's latency.
        Vector<float> a0 = default, a1 = default, a2 = default, a3 = default;
        var vectors = MemoryMarshal.Cast<float, Vector<float>>(values);
        int v = 0;
        for (; v + 4 <= vectors.Length; v += 4)
        {
            a0 += vectors[v] * Vector<float>.Zero;
            a1 += vectors[v + 1] * Vector<float>.Zero;
            a2 += vectors[v + 2] * Vector<float>.Zero;
            a3 += vectors[v + 3] * Vector<float>.Zero;
        }
        for (; v < vectors.Length; v++) a0 += vectors[v] * Vector<float>.Zero;
        var acc = a0 + a1 + a2 + a3;
        float tail = 0;
        for (int i = vectors.Length * Vector<float>.Count; i < values.Length; i++) tail += values[i] * 0f;
        return Vector.Sum(acc) + tail == 0f;
    }

    /// <summary>"NaN at index 12" / "+Inf at index 3", or null when every value is finite.</summary>
    public static string? Problem(ReadOnlySpan<float> values)
    {
        long i = FirstNonFinite(values);
        if (i < 0) return null;
        float x = values[(int)i];
        string what = float.IsNaN(x) ? "NaN" : x > 0 ? "+Inf" : "-Inf";
        return $"holds {what} at index {i} (every value must be a finite number)";
    }
}
