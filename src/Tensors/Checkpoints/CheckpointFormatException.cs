namespace PromptAD.Tensors.Checkpoints;

/// <summary>
/// A PyTorch checkpoint (torch.save zip, TorchScript archive) is malformed, hostile or of a kind we do not read. The
/// message names the file and, where one is involved, the zip entry, pickle global/opcode or tensor, so a refused
/// download can be identified from one log line. <see cref="Problem"/> says which rule was broken (tests and tools
/// tell cases apart by it, not by wording).
/// </summary>
public sealed class CheckpointFormatException : Exception
{
    public CheckpointFormatException(string filePath, CheckpointProblem problem, string detail)
        : base($"Checkpoint '{filePath}': {detail}")
    {
        FilePath = filePath;
        Problem = problem;
    }

    public CheckpointFormatException(string filePath, CheckpointProblem problem, string detail, Exception inner)
        : base($"Checkpoint '{filePath}': {detail}", inner)
    {
        FilePath = filePath;
        Problem = problem;
    }

    public string FilePath { get; }

    public CheckpointProblem Problem { get; }
}

/// <summary>The rule a refused checkpoint broke.</summary>
public enum CheckpointProblem
{
    /// <summary>Not a format we read (unknown bytes, the legacy pre-1.6 torch.save format, big-endian data).</summary>
    UnsupportedFormat,

    /// <summary>The zip container is cut short or its directory is inconsistent (no end record, entries past the end).</summary>
    TruncatedArchive,

    /// <summary>An entry name that would leave the archive's folder if extracted (absolute, "..", backslashes, drive letters).</summary>
    UnsafeEntryName,

    /// <summary>Two entries with the same name: which one a reader takes is undefined, so neither is trusted.</summary>
    DuplicateEntry,

    /// <summary>A compressed entry larger than its cap or inflating past its declared size.</summary>
    CompressionBomb,

    /// <summary>Encryption, multi-disk archives, compression methods other than stored/deflate.</summary>
    UnsupportedZipFeature,

    /// <summary>The pickle names a global outside the allow-list (os.system, builtins.eval, any class).</summary>
    ForbiddenGlobal,

    /// <summary>An opcode the restricted reader does not implement (or one that would call or build arbitrary objects).</summary>
    ForbiddenOpcode,

    /// <summary>REDUCE/NEWOBJ applied to something that is not a tensor rebuild function, OrderedDict or TorchScript class.</summary>
    ForbiddenCall,

    /// <summary>Nesting, stack, memo or pickle size beyond the reader's bounds.</summary>
    TooDeep,

    /// <summary>The pickle is malformed (stack underflow, bad argument types, cut short, no STOP).</summary>
    MalformedPickle,

    /// <summary>A tensor reaches outside its storage, or its storage outside its record.</summary>
    OutOfBounds,

    /// <summary>A tensor's element count overflows, or a dimension or stride is negative.</summary>
    BadShape,

    /// <summary>A tensor names a storage record the archive does not hold.</summary>
    MissingRecord,

    /// <summary>No state dict of tensors found where one was expected.</summary>
    NoTensors,
}
