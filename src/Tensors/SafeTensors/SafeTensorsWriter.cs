using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace PromptAD.Tensors.SafeTensors;

/// <summary>
/// Writes float32 safetensors files (checkpoints of learned prompts, test fixtures). Replacement is atomic: readers
/// see either the old file or the complete new one, never a torn write, even if the process dies midway.
/// </summary>
public static class SafeTensorsWriter
{
    /// <summary>One tensor to write; <paramref name="Data"/> holds the row-major elements of <paramref name="Shape"/>.</summary>
    public sealed record Entry(string Name, int[] Shape, ReadOnlyMemory<float> Data);

    /// <summary>
    /// Writes <paramref name="tensors"/> as F32, laid out in the order given, with optional string metadata.
    /// Invalid arguments throw before any file is touched; on any failure an existing file at
    /// <paramref name="path"/> is left intact and the temporary file is removed.
    /// </summary>
    public static void Write(string path, IEnumerable<Entry> tensors, IReadOnlyDictionary<string, string>? metadata = null) =>
        Write(path, tensors, metadata, SafeTensorDType.F32);

    /// <summary>
    /// As <see cref="Write(string, IEnumerable{Entry}, IReadOnlyDictionary{string, string}?)"/>, stored as F32, F16 or
    /// BF16 (rounded to nearest, ties to even); a finite value beyond the format's range is refused naming its tensor.
    /// </summary>
    public static void Write(string path, IEnumerable<Entry> tensors, IReadOnlyDictionary<string, string>? metadata, SafeTensorDType dtype)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(tensors);
        if (dtype is not (SafeTensorDType.F32 or SafeTensorDType.F16 or SafeTensorDType.BF16))
            throw new ArgumentException($"only F32, F16 and BF16 are written, not {dtype.HeaderName()}", nameof(dtype));

        List<Entry> entries = [.. tensors];
        Validate(entries, metadata);
        if (dtype != SafeTensorDType.F32) Float16Narrowing.CheckRange(entries, dtype);
        byte[] header = BuildHeader(entries, metadata, dtype);

        // Like every result file: atomic, the parent folder created when missing (a fresh run folder, say).
        AtomicWrite.Write(path, stream =>
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
            stream.Write(length);
            stream.Write(header);
            foreach (Entry entry in entries)
            {
                if (dtype == SafeTensorDType.F32) WriteLittleEndian(stream, entry.Data.Span);
                else Float16Narrowing.Write(stream, entry.Data.Span, dtype);
            }
        });
    }

    private static void Validate(List<Entry> entries, IReadOnlyDictionary<string, string>? metadata)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (Entry entry in entries)
        {
            ArgumentNullException.ThrowIfNull(entry, nameof(entries));
            if (string.IsNullOrEmpty(entry.Name))
            {
                throw new ArgumentException("Tensor names must be non-empty.", nameof(entries));
            }

            if (entry.Name == SafeTensorsHeader.MetadataKey)
            {
                throw new ArgumentException($"'{SafeTensorsHeader.MetadataKey}' is reserved and cannot name a tensor.", nameof(entries));
            }

            if (!names.Add(entry.Name))
            {
                throw new ArgumentException($"Tensor '{entry.Name}' is listed twice.", nameof(entries));
            }

            if (entry.Shape is null)
            {
                throw new ArgumentException($"Tensor '{entry.Name}' has a null shape.", nameof(entries));
            }

            long count = 1;
            foreach (int dim in entry.Shape)
            {
                if (dim < 0)
                {
                    throw new ArgumentException($"Tensor '{entry.Name}' has negative dimension {dim}.", nameof(entries));
                }

                count = dim == 0 || count == 0 ? 0 : count > int.MaxValue ? count : count * dim; // saturates past int range
            }

            if (count != entry.Data.Length)
            {
                throw new ArgumentException(
                    $"Tensor '{entry.Name}' shape [{string.Join(", ", entry.Shape)}] needs {(count > int.MaxValue ? "more than 2^31" : count.ToString())} elements; data has {entry.Data.Length}.",
                    nameof(entries));
            }
        }

        if (metadata is not null)
        {
            foreach ((string key, string value) in metadata)
            {
                if (key is null || value is null)
                {
                    throw new ArgumentException("Metadata keys and values must be non-null strings.", nameof(metadata));
                }
            }
        }
    }

    /// <summary>Header JSON, space-padded to a multiple of 8 bytes so the data section starts 8-aligned (as the Python library does).</summary>
    private static byte[] BuildHeader(List<Entry> entries, IReadOnlyDictionary<string, string>? metadata, SafeTensorDType dtype)
    {
        var buffer = new ArrayBufferWriter<byte>();
        // Relaxed escaping keeps names like "a+b" literal; any JSON reader decodes either form.
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject(SafeTensorsHeader.MetadataKey);
                foreach ((string key, string value) in metadata)
                {
                    json.WriteString(key, value);
                }

                json.WriteEndObject();
            }

            long offset = 0;
            foreach (Entry entry in entries)
            {
                long end = offset + (long)dtype.SizeInBytes() * entry.Data.Length;
                json.WriteStartObject(entry.Name);
                json.WriteString("dtype", dtype.HeaderName());
                json.WriteStartArray("shape");
                foreach (int dim in entry.Shape)
                {
                    json.WriteNumberValue(dim);
                }

                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(end);
                json.WriteEndArray();
                json.WriteEndObject();
                offset = end;
            }

            json.WriteEndObject();
        }

        int padded = (buffer.WrittenCount + 7) & ~7;
        if (padded > SafeTensorsHeader.MaxHeaderBytes)
        {
            throw new ArgumentException($"The header would be {padded} bytes, over the {SafeTensorsHeader.MaxHeaderBytes}-byte limit readers accept.");
        }

        byte[] header = new byte[padded];
        buffer.WrittenSpan.CopyTo(header);
        header.AsSpan(buffer.WrittenCount).Fill((byte)' ');
        return header;
    }

    private static void WriteLittleEndian(Stream stream, ReadOnlySpan<float> data)
    {
        if (BitConverter.IsLittleEndian)
        {
            stream.Write(MemoryMarshal.AsBytes(data));
            return;
        }

        Span<byte> scratch = stackalloc byte[4];
        foreach (float value in data)
        {
            BinaryPrimitives.WriteSingleLittleEndian(scratch, value);
            stream.Write(scratch);
        }
    }
}
