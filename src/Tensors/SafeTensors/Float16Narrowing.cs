using System.Buffers.Binary;

namespace PromptAD.Tensors.SafeTensors;

/// <summary>
/// float32 → F16 / BF16 for writing, rounded to nearest with ties to even (as PyTorch's .half() and .bfloat16()).
/// A finite value beyond the target's range would silently become infinite; it is refused instead, naming the tensor.
/// </summary>
internal static class Float16Narrowing
{
    internal static void CheckRange(IEnumerable<SafeTensorsWriter.Entry> entries, SafeTensorDType dtype)
    {
        foreach (var entry in entries)
        {
            var span = entry.Data.Span;
            for (int i = 0; i < span.Length; i++)
            {
                float v = span[i];
                bool overflows = dtype == SafeTensorDType.F16 ? float.IsFinite(v) && float.IsInfinity((float)(Half)v) : float.IsFinite(v) && float.IsInfinity(FromBFloat16(ToBFloat16(v)));
                if (overflows)
                    throw new ArgumentException($"Tensor '{entry.Name}' holds {v} at index {i}, beyond the range of {dtype.HeaderName()}; write it as F32.");
            }
        }
    }

    internal static void Write(Stream stream, ReadOnlySpan<float> data, SafeTensorDType dtype)
    {
        var buffer = new byte[2 * Math.Min(data.Length, 1 << 16)];
        for (int start = 0; start < data.Length; start += buffer.Length / 2)
        {
            int n = Math.Min(buffer.Length / 2, data.Length - start);
            for (int i = 0; i < n; i++)
            {
                ushort bits = dtype == SafeTensorDType.F16 ? BitConverter.HalfToUInt16Bits((Half)data[start + i]) : ToBFloat16(data[start + i]);
                BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(2 * i), bits);
            }
            stream.Write(buffer, 0, 2 * n);
        }
    }

    internal static ushort ToBFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return (ushort)((bits >> 16) | 0x40); // stays a (quiet) NaN
        return (ushort)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
    }

    private static float FromBFloat16(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);
}
