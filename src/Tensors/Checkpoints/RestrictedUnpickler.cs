using System.Buffers.Binary;
using System.Text;
using PromptAD.Tensors.SafeTensors;

namespace PromptAD.Tensors.Checkpoints;

/// <summary>
/// Reads the pickle of a PyTorch checkpoint (data.pkl) knowing only what a state dict or a TorchScript module needs:
/// the tensor rebuild functions, storage types, OrderedDict, TorchScript classes (inside TorchScript archives only),
/// and the opcodes protocols 2–4 use for them. Any other global (os.system, builtins.eval, a pickled class) or opcode
/// is refused naming it; nothing is ever executed or imported: every allowed "call" builds a plain record
/// (<see cref="PickleValues"/>). Bounded: the pickle's size, stack, memo and mark depth are capped, so a hostile
/// pickle fails with a named error instead of exhausting memory.
/// </summary>
internal sealed class RestrictedUnpickler
{
    /// <summary>Largest data.pkl read (a ViT-L state dict's pickle is about 100 KB).</summary>
    internal const long MaxPickleBytes = 64L << 20;

    internal const int MaxStack = 1 << 20, MaxMemo = 1 << 20, MaxMarks = 1000;

    private readonly string _path;
    private readonly string _what;
    private readonly byte[] _data;
    private readonly bool _torchScript;
    private readonly List<object?> _stack = [];
    private readonly Stack<int> _marks = new();
    private readonly Dictionary<long, object?> _memo = [];
    private int _pos;

    private RestrictedUnpickler(string path, string what, byte[] data, bool torchScript)
    {
        _path = path;
        _what = what;
        _data = data;
        _torchScript = torchScript;
    }

    /// <summary>Decodes <paramref name="data"/> (entry <paramref name="what"/> of <paramref name="path"/>) to its top value.</summary>
    public static object? Load(string path, string what, byte[] data, bool torchScript) =>
        new RestrictedUnpickler(path, what, data, torchScript).Run();

    private object? Run()
    {
        while (true)
        {
            if (_pos >= _data.Length) throw Malformed("it ends without a STOP opcode (cut short)");
            int at = _pos;
            byte op = _data[_pos++];
            switch (op)
            {
                case 0x80: Take(1); break; // PROTO n
                case 0x95: Take(8); break; // FRAME: a length hint only
                case (byte)'.': // STOP
                    if (_stack.Count != 1) throw Malformed($"STOP with {_stack.Count} values on the stack");
                    return _stack[0];
                case (byte)'(': // MARK
                    if (_marks.Count >= MaxMarks) throw Deep($"nesting deeper than {MaxMarks} marks");
                    _marks.Push(_stack.Count);
                    break;
                case (byte)'0': Pop(); break; // POP
                case (byte)'1': PopMark(); break; // POP_MARK
                case (byte)'2': Push(Peek()); break; // DUP
                case (byte)'N': Push(null); break;
                case 0x88: Push(true); break;
                case 0x89: Push(false); break;
                case (byte)'J': Push((long)BinaryPrimitives.ReadInt32LittleEndian(Take(4))); break;
                case (byte)'K': Push((long)Take(1)[0]); break;
                case (byte)'M': Push((long)BinaryPrimitives.ReadUInt16LittleEndian(Take(2))); break;
                case 0x8a: Push(LongOf(Take(Take(1)[0]), at)); break; // LONG1
                case 0x8b: Push(LongOf(Take(Length(4, at)), at)); break; // LONG4
                case (byte)'G': Push(BinaryPrimitives.ReadDoubleBigEndian(Take(8))); break; // BINFLOAT
                case (byte)'X': Push(Utf8(Take(Length(4, at)), at)); break; // BINUNICODE
                case 0x8c: Push(Utf8(Take(Take(1)[0]), at)); break; // SHORT_BINUNICODE
                case 0x8d: Push(Utf8(Take(Length(8, at)), at)); break; // BINUNICODE8
                case (byte)'T': Push(Encoding.Latin1.GetString(Take(Length(4, at)))); break; // BINSTRING (Python 2 str)
                case (byte)'U': Push(Encoding.Latin1.GetString(Take(Take(1)[0]))); break; // SHORT_BINSTRING
                case (byte)'B': Push(Take(Length(4, at)).ToArray()); break; // BINBYTES
                case (byte)'C': Push(Take(Take(1)[0]).ToArray()); break; // SHORT_BINBYTES
                case 0x8e: Push(Take(Length(8, at)).ToArray()); break; // BINBYTES8
                case (byte)')': Push(new PickleTuple([])); break;
                case 0x85: Push(new PickleTuple(PopN(1))); break;
                case 0x86: Push(new PickleTuple(PopN(2))); break;
                case 0x87: Push(new PickleTuple(PopN(3))); break;
                case (byte)'t': Push(new PickleTuple(PopMark())); break;
                case (byte)']': Push(new List<object?>()); break;
                case (byte)'l': Push(new List<object?>(PopMark())); break;
                case (byte)'}': Push(new PickleDict()); break;
                case (byte)'d': { var d = new PickleDict(); AddPairs(d, PopMark(), at); Push(d); break; }
                case (byte)'a': { var v = Pop(); ListAt(at).Add(v); break; }
                case (byte)'e': { var items = PopMark(); ListAt(at).AddRange(items); break; }
                case (byte)'s': { var v = Pop(); var k = Pop(); DictAt(at).Items.Add(new(k, v)); break; }
                case (byte)'u': { var items = PopMark(); AddPairs(DictAt(at), items, at); break; }
                case (byte)'q': Memo(Take(1)[0]); break; // BINPUT
                case (byte)'r': Memo(BinaryPrimitives.ReadUInt32LittleEndian(Take(4))); break; // LONG_BINPUT
                case 0x94: Memo(_memo.Count); break; // MEMOIZE
                case (byte)'h': Push(Recall(Take(1)[0], at)); break; // BINGET
                case (byte)'j': Push(Recall(BinaryPrimitives.ReadUInt32LittleEndian(Take(4)), at)); break; // LONG_BINGET
                case (byte)'c': // GLOBAL module\nname\n
                {
                    string module = Line(at), name = Line(at);
                    Push(Global(module, name));
                    break;
                }
                case 0x93: // STACK_GLOBAL
                {
                    var name = Pop();
                    var module = Pop();
                    if (module is not string m || name is not string n) throw Malformed($"STACK_GLOBAL at byte {at} without two strings");
                    Push(Global(m, n));
                    break;
                }
                case (byte)'Q': Push(PersistentId(Pop(), at)); break; // BINPERSID
                case (byte)'R': // REDUCE
                {
                    var args = Pop();
                    var callable = Pop();
                    Push(Call(callable, args, at));
                    break;
                }
                case 0x81: // NEWOBJ
                {
                    var args = Pop();
                    var cls = Pop();
                    if (cls is not PickleGlobal { Kind: GlobalKind.ScriptClass } g || args is not PickleTuple { Items.Length: 0 })
                        throw new CheckpointFormatException(_path, CheckpointProblem.ForbiddenCall,
                            $"{_what}: NEWOBJ at byte {at} on {Describe(cls)}: only TorchScript classes are instantiated (as attribute records)");
                    Push(new ScriptObject(g.FullName));
                    break;
                }
                case (byte)'b': // BUILD
                {
                    var state = Pop();
                    switch (Peek())
                    {
                        case ScriptObject o: o.State = state; break;
                        case PickleDict: break; // OrderedDict's attributes (state_dict()._metadata): not weights
                        case TensorRef: break; // a tensor's Python attributes (_rebuild_from_type_v2's state)
                        default: throw new CheckpointFormatException(_path, CheckpointProblem.ForbiddenCall,
                            $"{_what}: BUILD at byte {at} on {Describe(Peek())}: only TorchScript objects and dicts take state");
                    }
                    break;
                }
                default:
                    throw new CheckpointFormatException(_path, CheckpointProblem.ForbiddenOpcode,
                        $"{_what}: pickle opcode {OpName(op)} at byte {at} is not allowed (a state dict never needs it)");
            }
        }
    }

    /// <summary>The allow-list. Everything not named here is refused before anything else happens.</summary>
    private PickleGlobal Global(string module, string name)
    {
        GlobalKind? kind = (module, name) switch
        {
            ("torch._utils", "_rebuild_tensor_v2" or "_rebuild_tensor") => GlobalKind.RebuildTensor,
            ("torch._utils", "_rebuild_parameter" or "_rebuild_parameter_with_state") => GlobalKind.RebuildParameter,
            ("torch._tensor", "_rebuild_from_type_v2") => GlobalKind.RebuildFromType,
            ("torch.nn.parameter", "Parameter") or ("torch._tensor", "Tensor") or ("torch", "Tensor") => GlobalKind.TensorType,
            ("collections", "OrderedDict") => GlobalKind.OrderedDict,
            ("torch.jit._pickle", "build_intlist" or "build_floatlist" or "build_boollist" or "build_tensorlist" or "build_doublelist"
                or "build_genericlist" or "restore_type_tag") => GlobalKind.Identity,
            ("torch", _) when StorageDType(name) is not null => GlobalKind.StorageType,
            _ when _torchScript && (module == "__torch__" || module.StartsWith("__torch__.", StringComparison.Ordinal)) => GlobalKind.ScriptClass,
            _ => null,
        };
        if (kind is null)
            throw new CheckpointFormatException(_path, CheckpointProblem.ForbiddenGlobal,
                $"{_what}: pickle global '{MappedZip.Printable(module)}.{MappedZip.Printable(name)}' is not allowed (only tensor rebuild functions, storage types and OrderedDict{(_torchScript ? ", and TorchScript classes" : "")} are read; nothing is executed)");
        return new PickleGlobal(module, name, kind.Value, kind == GlobalKind.StorageType ? StorageDType(name)!.Value : default);
    }

    internal static SafeTensorDType? StorageDType(string name) => name switch
    {
        "FloatStorage" => SafeTensorDType.F32,
        "HalfStorage" => SafeTensorDType.F16,
        "BFloat16Storage" => SafeTensorDType.BF16,
        "DoubleStorage" => SafeTensorDType.F64,
        "LongStorage" => SafeTensorDType.I64,
        "IntStorage" => SafeTensorDType.I32,
        "ShortStorage" => SafeTensorDType.I16,
        "CharStorage" => SafeTensorDType.I8,
        "ByteStorage" => SafeTensorDType.U8,
        "BoolStorage" => SafeTensorDType.BOOL,
        _ => null,
    };

    /// <summary>('storage', storage type, key, location, element count): the only persistent id torch writes.</summary>
    private StorageRef PersistentId(object? pid, int at)
    {
        if (pid is PickleTuple { Items: ["storage", PickleGlobal { Kind: GlobalKind.StorageType } type, string key, string, long count] })
        {
            if (count < 0) throw new CheckpointFormatException(_path, CheckpointProblem.BadShape, $"{_what}: storage '{key}' declares {count} elements");
            return new StorageRef(type.DType, type.Name, key, count);
        }
        throw new CheckpointFormatException(_path, CheckpointProblem.ForbiddenCall,
            $"{_what}: persistent id at byte {at} is {Describe(pid)}, not ('storage', <storage type>, key, location, count)");
    }

    /// <summary>REDUCE: only the rebuild functions, OrderedDict() and the TorchScript list builders are "called".</summary>
    private object? Call(object? callable, object? args, int at)
    {
        if (callable is not PickleGlobal g || args is not PickleTuple t || g.Kind is GlobalKind.StorageType or GlobalKind.ScriptClass or GlobalKind.TensorType)
            throw new CheckpointFormatException(_path, CheckpointProblem.ForbiddenCall,
                $"{_what}: REDUCE at byte {at} calls {Describe(callable)}: only the tensor rebuild functions and OrderedDict are called");
        var a = t.Items;
        switch (g.Kind)
        {
            case GlobalKind.OrderedDict when a.Length == 0:
                return new PickleDict();
            case GlobalKind.RebuildTensor when a.Length >= 4 && a[0] is StorageRef s && a[1] is long offset:
                return new TensorRef(s, offset, Longs(a[2], "size", at), Longs(a[3], "stride", at));
            case GlobalKind.RebuildParameter when a.Length >= 1 && a[0] is TensorRef p:
                return p;
            case GlobalKind.RebuildFromType when a.Length >= 3 && a[0] is PickleGlobal { Kind: GlobalKind.RebuildTensor or GlobalKind.RebuildParameter } f
                                                && a[1] is PickleGlobal { Kind: GlobalKind.TensorType }:
                return Call(f, a[2], at);
            case GlobalKind.Identity when a.Length >= 1:
                return a[0];
            default:
                throw new CheckpointFormatException(_path, CheckpointProblem.ForbiddenCall,
                    $"{_what}: REDUCE at byte {at}: {g.FullName} with arguments {Describe(args)} is not a form torch writes");
        }
    }

    private long[] Longs(object? value, string what, int at)
    {
        if (value is PickleTuple { Items: var items } && items.All(i => i is long))
        {
            if (items.Length > 64) throw Deep($"a tensor {what} of {items.Length} dimensions");
            return items.Select(i => (long)i!).ToArray();
        }
        throw Malformed($"tensor {what} at byte {at} is {Describe(value)}, not a tuple of integers");
    }

    private static string Describe(object? v) => v switch
    {
        null => "None",
        PickleGlobal g => $"'{g.FullName}'",
        PickleTuple t => $"a {t.Items.Length}-tuple",
        PickleDict => "a dict",
        List<object?> => "a list",
        string s => $"the string '{MappedZip.Printable(s)}'",
        TensorRef => "a tensor",
        StorageRef => "a storage",
        ScriptObject o => $"a {o.ClassName} object",
        _ => $"a {v.GetType().Name}",
    };

    private void AddPairs(PickleDict d, object?[] items, int at)
    {
        if (items.Length % 2 != 0) throw Malformed($"SETITEMS/DICT at byte {at} with an odd number of values");
        for (int i = 0; i < items.Length; i += 2) d.Items.Add(new(items[i], items[i + 1]));
    }

    private List<object?> ListAt(int at) => Peek() as List<object?> ?? throw Malformed($"APPEND at byte {at} on {Describe(Peek())}, not a list");

    private PickleDict DictAt(int at) => Peek() as PickleDict ?? throw Malformed($"SETITEM at byte {at} on {Describe(Peek())}, not a dict");

    private void Memo(long index)
    {
        if (_memo.Count >= MaxMemo && !_memo.ContainsKey(index)) throw Deep($"more than {MaxMemo} memo entries");
        _memo[index] = Peek();
    }

    private object? Recall(long index, int at) =>
        _memo.TryGetValue(index, out var v) ? v : throw Malformed($"memo get at byte {at} of entry {index}, never stored");

    private void Push(object? v)
    {
        if (_stack.Count >= MaxStack) throw Deep($"more than {MaxStack} values on the stack");
        _stack.Add(v);
    }

    private object? Peek() => _stack.Count > 0 ? _stack[^1] : throw Malformed($"stack underflow at byte {_pos - 1}");

    private object? Pop()
    {
        var v = Peek();
        _stack.RemoveAt(_stack.Count - 1);
        return v;
    }

    private object?[] PopN(int n)
    {
        if (_stack.Count - (_marks.Count > 0 ? _marks.Peek() : 0) < n) throw Malformed($"stack underflow at byte {_pos - 1}");
        var items = _stack.GetRange(_stack.Count - n, n).ToArray();
        _stack.RemoveRange(_stack.Count - n, n);
        return items;
    }

    private object?[] PopMark()
    {
        if (_marks.Count == 0) throw Malformed($"an opcode at byte {_pos - 1} expects a MARK that is not there");
        int start = _marks.Pop();
        var items = _stack.GetRange(start, _stack.Count - start).ToArray();
        _stack.RemoveRange(start, _stack.Count - start);
        return items;
    }

    private ReadOnlySpan<byte> Take(long n)
    {
        if (n < 0 || n > _data.Length - _pos) throw Malformed($"an argument at byte {_pos} runs past its end ({_data.Length} bytes; cut short)");
        var span = _data.AsSpan(_pos, (int)n);
        _pos += (int)n;
        return span;
    }

    private long Length(int bytes, int at)
    {
        long n = bytes == 4 ? BinaryPrimitives.ReadUInt32LittleEndian(Take(4)) : (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(Take(8)), long.MaxValue);
        if (n > _data.Length - _pos) throw Malformed($"a length at byte {at} ({n}) runs past its end (cut short)");
        return n;
    }

    private string Line(int at)
    {
        int end = Array.IndexOf(_data, (byte)'\n', _pos, Math.Min(_data.Length - _pos, 1024));
        if (end < 0) throw Malformed($"GLOBAL at byte {at} has no line end within 1024 bytes");
        string s = Encoding.UTF8.GetString(_data, _pos, end - _pos);
        _pos = end + 1;
        return s;
    }

    private string Utf8(ReadOnlySpan<byte> bytes, int at)
    {
        try { return new UTF8Encoding(false, true).GetString(bytes); }
        catch (DecoderFallbackException) { throw Malformed($"a string at byte {at} is not valid UTF-8"); }
    }

    private long LongOf(ReadOnlySpan<byte> bytes, int at)
    {
        if (bytes.Length > 8) throw Malformed($"an integer at byte {at} has {bytes.Length} bytes; at most 8 are read");
        if (bytes.Length == 0) return 0;
        Span<byte> wide = stackalloc byte[8];
        wide.Fill((bytes[^1] & 0x80) != 0 ? (byte)0xFF : (byte)0);
        bytes.CopyTo(wide);
        return BinaryPrimitives.ReadInt64LittleEndian(wide);
    }

    private static string OpName(byte op) => op switch
    {
        (byte)'i' => "INST", (byte)'o' => "OBJ", 0x92 => "NEWOBJ_EX", 0x82 or 0x83 or 0x84 => "EXT",
        (byte)'P' => "PERSID", (byte)'g' => "GET", (byte)'p' => "PUT", (byte)'I' => "INT", (byte)'L' => "LONG",
        (byte)'F' => "FLOAT", (byte)'S' => "STRING", (byte)'V' => "UNICODE", 0x8f => "EMPTY_SET", 0x90 => "ADDITEMS",
        0x91 => "FROZENSET", 0x96 => "BYTEARRAY8", 0x97 => "NEXT_BUFFER", 0x98 => "READONLY_BUFFER",
        _ => $"0x{op:x2}",
    } + (op is >= 0x20 and < 0x7f ? $" ('{(char)op}')" : "");

    private CheckpointFormatException Malformed(string detail) => new(_path, CheckpointProblem.MalformedPickle, $"{_what}: malformed pickle: {detail}");

    private CheckpointFormatException Deep(string detail) => new(_path, CheckpointProblem.TooDeep, $"{_what}: pickle refused: {detail}");
}
