namespace PromptAD.Tensors;

/// <summary>
/// Collects the tensors created on this thread while it is open and disposes them when it closes, so a
/// training step or an encoder call frees every intermediate (native or device memory) deterministically.
/// <see cref="Keep"/> hands a tensor to the enclosing scope (or to the caller when there is none).
/// </summary>
public sealed class TensorScope : IDisposable
{
    [ThreadStatic] private static TensorScope? _current;

    private readonly TensorScope? _outer;
    private readonly HashSet<Tensor> _owned = new(ReferenceEqualityComparer.Instance);
    private bool _closed;

    private TensorScope()
    {
        _outer = _current;
        _current = this;
    }

    public static TensorScope Open() => new();

    internal static void Register(Tensor t) => _current?._owned.Add(t);

    /// <summary>Removes a tensor from whichever open scope holds it (it becomes the caller's to dispose).</summary>
    internal static void Forget(Tensor t)
    {
        for (var s = _current; s is not null; s = s._outer)
            if (s._owned.Remove(t)) return;
    }

    /// <summary>Takes <paramref name="t"/> out of every open scope: the caller owns it from now on.</summary>
    public static void Detach(Tensor t) => Forget(t);

    /// <summary>Moves <paramref name="t"/> out of this scope into the enclosing one (or to the caller).</summary>
    public T Keep<T>(T t) where T : class
    {
        if (t is Tensor tensor && _owned.Remove(tensor)) _outer?._owned.Add(tensor);
        return t;
    }

    public void Dispose()
    {
        if (_closed) return;
        _closed = true;
        if (_current == this) _current = _outer;
        foreach (var t in _owned) t.Dispose();
        _owned.Clear();
    }
}
