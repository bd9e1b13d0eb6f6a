namespace PromptAD.Tensors;

/// <summary>Helpers for shapes (int arrays). Ops view every tensor as a 2-D [rows, cols] matrix whose
/// cols is the last dimension; a scalar (rank 0) is a 1×1 matrix.</summary>
public static class Shape
{
    public static long Elements(ReadOnlySpan<int> shape)
    {
        long n = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentException($"negative dimension in shape {Format(shape)}");
            n = checked(n * d);
        }
        return n;
    }

    public static string Format(ReadOnlySpan<int> shape) => "[" + string.Join(", ", shape.ToArray()) + "]";

    public static bool Equal(ReadOnlySpan<int> a, ReadOnlySpan<int> b) => a.SequenceEqual(b);
}
