namespace PromptAD.Tensors;

/// <summary>Argument checks shared by every backend, so a misuse fails with the op and the shapes named
/// instead of corrupting memory.</summary>
public static class Require
{
    public static void Length(Tensor t, long expected, string op, string name)
    {
        if (t.Length != expected)
            throw new ArgumentException($"{op}: {name} has shape {Shape.Format(t.Shape)} ({t.Length} elements), expected {expected} elements");
    }

    public static void SameLength(Tensor a, Tensor b, string op, string nameA, string nameB)
    {
        if (a.Length != b.Length)
            throw new ArgumentException($"{op}: {nameA} {Shape.Format(a.Shape)} and {nameB} {Shape.Format(b.Shape)} differ in size");
    }

    public static void Matrix(Tensor t, int rows, int cols, string op, string name)
    {
        if (t.Rows != rows || t.Cols != cols)
            throw new ArgumentException($"{op}: {name} has shape {Shape.Format(t.Shape)}, expected {rows}×{cols} (rows × last dimension)");
    }

    public static void Indices(ReadOnlySpan<int> indices, int bound, string op)
    {
        foreach (int i in indices)
            if ((uint)i >= (uint)bound) throw new ArgumentOutOfRangeException(nameof(indices), $"{op}: row index {i} outside [0, {bound})");
    }

    public static void Backend(IBackend backend, Tensor t, string op)
    {
        if (!ReferenceEquals(t.Backend, backend))
            throw new ArgumentException($"{op}: tensor {Shape.Format(t.Shape)} lives on {t.Backend.Name}, not {backend.Name}");
        if (t.Storage.IsDisposed) throw new ObjectDisposedException($"{op}: tensor {Shape.Format(t.Shape)} was disposed");
    }
}
