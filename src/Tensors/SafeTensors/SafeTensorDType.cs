namespace PromptAD.Tensors.SafeTensors;

/// <summary>
/// Element types a safetensors header may name. All are parsed (so files holding them open and their ranges are
/// validated); only F32, F16 and BF16 convert to float32, because CLIP checkpoints use nothing else.
/// </summary>
public enum SafeTensorDType
{
    F64,
    F32,
    F16,
    BF16,
    I64,
    I32,
    I16,
    I8,
    U64,
    U32,
    U16,
    U8,
    BOOL,
    F8_E4M3,
    F8_E5M2,
}

/// <summary>Mapping between header spellings, byte sizes and the enum.</summary>
public static class SafeTensorDTypes
{
    /// <summary>Bytes per element. Every listed type is whole-byte; sub-byte types (F4, F6) are deliberately unknown.</summary>
    public static int SizeInBytes(this SafeTensorDType dtype) => dtype switch
    {
        SafeTensorDType.F64 or SafeTensorDType.I64 or SafeTensorDType.U64 => 8,
        SafeTensorDType.F32 or SafeTensorDType.I32 or SafeTensorDType.U32 => 4,
        SafeTensorDType.F16 or SafeTensorDType.BF16 or SafeTensorDType.I16 or SafeTensorDType.U16 => 2,
        SafeTensorDType.I8 or SafeTensorDType.U8 or SafeTensorDType.BOOL
            or SafeTensorDType.F8_E4M3 or SafeTensorDType.F8_E5M2 => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Not a safetensors dtype."),
    };

    /// <summary>True for the types <see cref="SafeTensorsFile.ReadFloat32(string)"/> can convert.</summary>
    public static bool ConvertsToFloat32(this SafeTensorDType dtype) =>
        dtype is SafeTensorDType.F32 or SafeTensorDType.F16 or SafeTensorDType.BF16;

    /// <summary>The exact (case-sensitive, as the reference implementation) header spelling.</summary>
    public static string HeaderName(this SafeTensorDType dtype) => dtype switch
    {
        SafeTensorDType.F64 => "F64",
        SafeTensorDType.F32 => "F32",
        SafeTensorDType.F16 => "F16",
        SafeTensorDType.BF16 => "BF16",
        SafeTensorDType.I64 => "I64",
        SafeTensorDType.I32 => "I32",
        SafeTensorDType.I16 => "I16",
        SafeTensorDType.I8 => "I8",
        SafeTensorDType.U64 => "U64",
        SafeTensorDType.U32 => "U32",
        SafeTensorDType.U16 => "U16",
        SafeTensorDType.U8 => "U8",
        SafeTensorDType.BOOL => "BOOL",
        SafeTensorDType.F8_E4M3 => "F8_E4M3",
        SafeTensorDType.F8_E5M2 => "F8_E5M2",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Not a safetensors dtype."),
    };

    /// <summary>Parses a header spelling; a string switch rather than Enum.Parse so it stays exact and AOT-clean.</summary>
    public static bool TryParse(string? text, out SafeTensorDType dtype)
    {
        SafeTensorDType? parsed = text switch
        {
            "F64" => SafeTensorDType.F64,
            "F32" => SafeTensorDType.F32,
            "F16" => SafeTensorDType.F16,
            "BF16" => SafeTensorDType.BF16,
            "I64" => SafeTensorDType.I64,
            "I32" => SafeTensorDType.I32,
            "I16" => SafeTensorDType.I16,
            "I8" => SafeTensorDType.I8,
            "U64" => SafeTensorDType.U64,
            "U32" => SafeTensorDType.U32,
            "U16" => SafeTensorDType.U16,
            "U8" => SafeTensorDType.U8,
            "BOOL" => SafeTensorDType.BOOL,
            "F8_E4M3" => SafeTensorDType.F8_E4M3,
            "F8_E5M2" => SafeTensorDType.F8_E5M2,
            _ => null,
        };
        dtype = parsed.GetValueOrDefault();
        return parsed.HasValue;
    }
}
