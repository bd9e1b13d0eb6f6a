namespace PromptAD.Tensors.SafeTensors;

/// <summary>
/// One tensor's header entry after validation. <see cref="Begin"/>/<see cref="End"/> are byte offsets relative to
/// the start of the data section (the byte after the JSON header), as in the file. Treat <see cref="Shape"/> as
/// read-only: it is the parsed array itself, shared with the file object.
/// </summary>
public sealed record SafeTensorInfo(
    string Name,
    SafeTensorDType DType,
    int[] Shape,
    long Begin,
    long End,
    long ElementCount)
{
    /// <summary>Byte length of the tensor's data (End − Begin).</summary>
    public long ByteLength => End - Begin;

    /// <summary>Shape as "[a, b, c]" for messages.</summary>
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}
