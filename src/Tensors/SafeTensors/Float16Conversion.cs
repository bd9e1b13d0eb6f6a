using System.Buffers.Binary;

namespace PromptAD.Tensors.SafeTensors;

/// <summary>
/// Widening conversions from the 16-bit float formats stored in checkpoints. Both are exact (every F16 and BF16 value
/// is representable in float32), so NaN payload aside, no rounding decisions are made here.
/// </summary>
internal static class Float16Conversion
{
    /// <summary>IEEE binary16 → float32, via <see cref="Half"/> (handles subnormals, ±inf, NaN).</summary>
    internal static void HalfToSingle(ReadOnlySpan<byte> source, Span<float> destination)
    {
        for (int i = 0; i < destination.Length; i++)
        {
            ushort bits = BinaryPrimitives.ReadUInt16LittleEndian(source.Slice(2 * i, 2));
            destination[i] = (float)BitConverter.UInt16BitsToHalf(bits);
        }
    }

    /// <summary>bfloat16 → float32: bfloat16 is the top half of a float32, so shifting the bits back is exact.</summary>
    internal static void BFloat16ToSingle(ReadOnlySpan<byte> source, Span<float> destination)
    {
        for (int i = 0; i < destination.Length; i++)
        {
            uint bits = BinaryPrimitives.ReadUInt16LittleEndian(source.Slice(2 * i, 2));
            destination[i] = BitConverter.UInt32BitsToSingle(bits << 16);
        }
    }

    /// <summary>Little-endian float32 bytes → floats; a plain copy on little-endian hosts (the data may be unaligned).</summary>
    internal static void LittleEndianSingle(ReadOnlySpan<byte> source, Span<float> destination)
    {
        if (BitConverter.IsLittleEndian)
        {
            source[..(4 * destination.Length)].CopyTo(System.Runtime.InteropServices.MemoryMarshal.AsBytes(destination));
            return;
        }

        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = BinaryPrimitives.ReadSingleLittleEndian(source.Slice(4 * i, 4));
        }
    }
}
