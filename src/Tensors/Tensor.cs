using PromptAD.Tensors.Autograd;

namespace PromptAD.Tensors;

/// <summary>
/// A contiguous row-major float32 tensor: a shape over a range of one backend's storage. A tensor either owns
/// its storage (and frees it on Dispose) or is a view (row range, reshape) of another tensor's storage, which
/// stays valid only as long as the owner does. Tensors created inside a <see cref="TensorScope"/> are disposed
/// with the scope unless kept.
/// </summary>
public sealed class Tensor : IDisposable
{
    private readonly int[] _shape;

    private Tensor(Storage storage, long offset, int[] shape, bool ownsStorage)
    {
        Storage = storage;
        Offset = offset;
        _shape = shape;
        Length = Tensors.Shape.Elements(shape);
        OwnsStorage = ownsStorage;
        if (offset < 0 || offset + Length > storage.Length)
            throw new ArgumentException($"view of {Length} elements at offset {offset} lies outside storage of {storage.Length}");
    }

    public IBackend Backend => Storage.Backend;
    public Storage Storage { get; }

    /// <summary>Element offset of this tensor's first element inside <see cref="Storage"/>.</summary>
    public long Offset { get; }

    public ReadOnlySpan<int> Shape => _shape;
    public int Rank => _shape.Length;
    public long Length { get; }
    public bool OwnsStorage { get; }
    public bool IsDisposed { get; private set; }

    /// <summary>Size of the last dimension (1 for a scalar).</summary>
    public int Cols => _shape.Length == 0 ? 1 : _shape[^1];

    /// <summary>Product of all dimensions but the last (1 for a scalar or a vector).</summary>
    public int Rows => Cols == 0 ? 0 : checked((int)(Length / Cols));

    public int Dim(int axis) => _shape[axis < 0 ? _shape.Length + axis : axis];

    /// <summary>Set on leaves (learned prompt vectors). Ops whose inputs require a gradient record a node.</summary>
    public bool RequiresGrad { get; set; }

    /// <summary>Accumulated gradient of a leaf after <see cref="Autograd.Backprop.Backward"/>; owned by this tensor.</summary>
    public Tensor? Grad { get; internal set; }

    /// <summary>The recorded operation that produced this tensor (null for leaves and untracked results).</summary>
    internal GradNode? Node { get; set; }

    public bool IsLeaf => Node is null;

    /// <summary>A new uninitialized tensor on <paramref name="backend"/>.</summary>
    public static Tensor Empty(IBackend backend, params int[] shape)
    {
        var storage = backend.Allocate(Tensors.Shape.Elements(shape));
        var t = new Tensor(storage, 0, (int[])shape.Clone(), ownsStorage: true);
        TensorScope.Register(t);
        return t;
    }

    /// <summary>A tensor over all of <paramref name="storage"/>, owning it (disposed with the tensor).</summary>
    internal static Tensor Over(Storage storage, int[] shape)
    {
        var t = new Tensor(storage, 0, (int[])shape.Clone(), ownsStorage: true);
        TensorScope.Register(t);
        return t;
    }

    public static Tensor Zeros(IBackend backend, params int[] shape) => Full(backend, 0f, shape);

    public static Tensor Full(IBackend backend, float value, params int[] shape)
    {
        var t = Empty(backend, shape);
        backend.Fill(t, value);
        return t;
    }

    public static Tensor FromArray(IBackend backend, ReadOnlySpan<float> data, params int[] shape)
    {
        if (Tensors.Shape.Elements(shape) != data.Length)
            throw new ArgumentException($"{data.Length} values do not fill shape {Tensors.Shape.Format(shape)}");
        var t = Empty(backend, shape);
        backend.Upload(data, t);
        return t;
    }

    public static Tensor Scalar(IBackend backend, float value) => FromArray(backend, [value]);

    /// <summary>Rows [start, start+count) of the first dimension, sharing storage (no gradient tracking;
    /// use <see cref="Ops.SliceRows"/> for that).</summary>
    public Tensor RowsView(int start, int count)
    {
        if (Rank == 0) throw new InvalidOperationException("a scalar has no rows");
        int n = _shape[0];
        if (start < 0 || count < 0 || start + count > n)
            throw new ArgumentOutOfRangeException(nameof(start), $"rows [{start}, {start + count}) of a tensor with {n}");
        long rowSize = n == 0 ? 0 : Length / n;
        var shape = (int[])_shape.Clone();
        shape[0] = count;
        return new Tensor(Storage, Offset + start * rowSize, shape, ownsStorage: false);
    }

    /// <summary>The same elements under another shape (a view; no gradient tracking — see <see cref="Ops.Reshape"/>).</summary>
    public Tensor View(params int[] shape)
    {
        if (Tensors.Shape.Elements(shape) != Length)
            throw new ArgumentException($"cannot view {Tensors.Shape.Format(_shape)} as {Tensors.Shape.Format(shape)}");
        return new Tensor(Storage, Offset, (int[])shape.Clone(), ownsStorage: false);
    }

    public float[] ToArray()
    {
        var data = new float[Length];
        Backend.Download(this, data);
        return data;
    }

    public void CopyFrom(ReadOnlySpan<float> data)
    {
        if (data.Length != Length) throw new ArgumentException($"{data.Length} values for a tensor of {Length}");
        Backend.Upload(data, this);
    }

    /// <summary>The single value of a one-element tensor.</summary>
    public float Item()
    {
        if (Length != 1) throw new InvalidOperationException($"Item() on a tensor of shape {Tensors.Shape.Format(_shape)}");
        Span<float> v = stackalloc float[1];
        Backend.Download(this, v);
        return v[0];
    }

    /// <summary>Drops the gradient of a leaf (before the next step).</summary>
    public void ZeroGrad()
    {
        Grad?.Dispose();
        Grad = null;
    }

    internal void SetGrad(Tensor grad)
    {
        TensorScope.Forget(grad);
        Grad = grad;
    }

    public override string ToString() => $"Tensor{Tensors.Shape.Format(_shape)} on {Backend.Name}";

    public void Dispose()
    {
        if (IsDisposed) return;
        IsDisposed = true;
        Node = null;
        Grad?.Dispose();
        Grad = null;
        if (OwnsStorage) Storage.Dispose();
    }
}
