namespace PromptAD.Tensors.Checkpoints;

// The values the restricted pickle reader builds. Python's None is null; str is string; int is long; float is double;
// bool is bool; bytes is byte[]. Nothing here runs code: every "call" the reader allows produces one of these records.

/// <summary>A Python tuple (kept apart from lists: the rebuild functions take tuples).</summary>
internal sealed record PickleTuple(object?[] Items);

/// <summary>A Python dict or OrderedDict, in insertion order (a state dict's order is the model's).</summary>
internal sealed class PickleDict
{
    public List<KeyValuePair<object?, object?>> Items { get; } = [];
}

/// <summary>A global the allow-list admits, by kind; its name is kept for messages.</summary>
internal sealed record PickleGlobal(string Module, string Name, GlobalKind Kind, SafeTensors.SafeTensorDType DType = default)
{
    public string FullName => Module + "." + Name;
}

internal enum GlobalKind
{
    /// <summary>torch.FloatStorage and the like: only a dtype marker inside a persistent id.</summary>
    StorageType,
    /// <summary>torch._utils._rebuild_tensor_v2 / _rebuild_tensor.</summary>
    RebuildTensor,
    /// <summary>torch._utils._rebuild_parameter (and _with_state): the wrapped tensor.</summary>
    RebuildParameter,
    /// <summary>torch._tensor._rebuild_from_type_v2: calls a rebuild function on arguments.</summary>
    RebuildFromType,
    /// <summary>torch.nn.parameter.Parameter, torch.Tensor: a type marker for _rebuild_from_type_v2.</summary>
    TensorType,
    /// <summary>collections.OrderedDict: an empty dict.</summary>
    OrderedDict,
    /// <summary>torch.jit._pickle.build_*list / restore_type_tag: return their first argument.</summary>
    Identity,
    /// <summary>A TorchScript class (__torch__.*), allowed only inside TorchScript archives; never run, only records attributes.</summary>
    ScriptClass,
}

/// <summary>The persistent id of a storage: its element type, record key inside the archive, and element count.</summary>
internal sealed record StorageRef(SafeTensors.SafeTensorDType DType, string TypeName, string Key, long Elements);

/// <summary>A tensor as the rebuild function describes it: a strided view of a storage.</summary>
internal sealed record TensorRef(StorageRef Storage, long Offset, long[] Shape, long[] Stride);

/// <summary>An instance of a TorchScript class: its attributes (the BUILD state), nothing else.</summary>
internal sealed class ScriptObject(string className)
{
    public string ClassName { get; } = className;
    public object? State { get; set; }
}
