using System.Runtime.InteropServices;

namespace PromptAD.Clip;

/// <summary>
/// Which text positions need computing. With a causal mask, position t of a prompt depends only on its inputs at
/// positions 0..t, so prompts whose inputs agree up to t have identical hidden states there: PromptAD's prompts share
/// their start token and learned context vectors (c_i[1..4]) across every state and suffix, so each group's prefix
/// is computed once. Positions after a prompt's end token influence nothing and are not computed at all. The
/// transformer then runs its per-row work (LayerNorm, projections, MLP) on the unique rows only; attention still
/// sees every prompt's full sequence, rebuilt by a row gather. Exact, like end-position truncation (SPEC §5.2).
/// </summary>
internal sealed class SharedPrefixLayout
{
    private SharedPrefixLayout(int[] representatives, int[] expand, int[] endRows)
    {
        Representatives = representatives;
        Expand = expand;
        EndRows = endRows;
    }

    /// <summary>For each unique row, one [batch·seq] row it stands for (its first occurrence).</summary>
    public int[] Representatives { get; }

    /// <summary>For each of the batch·seq positions, its unique row (positions after a prompt's end reuse the end's).</summary>
    public int[] Expand { get; }

    /// <summary>The unique row of each prompt's end token.</summary>
    public int[] EndRows { get; }

    public int UniqueCount => Representatives.Length;

    /// <param name="inputs">the transformer's input rows [batch·seq, width] (embeddings + positions), on the host.</param>
    public static SharedPrefixLayout Build(ReadOnlySpan<float> inputs, int batch, int seq, int width, int[] endPositions)
    {
        var representatives = new List<int>();
        var expand = new int[batch * seq];
        var endRows = new int[batch];
        // A position's identity is (identity of the previous position, this row's values): equal identities mean
        // equal prefixes. Rows are compared exactly; the hash only buckets them.
        var known = new Dictionary<(int Parent, long Hash), List<int>>();
        var rows = MemoryMarshal.Cast<float, int>(inputs);
        for (int b = 0; b < batch; b++)
        {
            int parent = -1;
            for (int t = 0; t <= endPositions[b]; t++)
            {
                int row = b * seq + t;
                var values = rows.Slice(row * width, width);
                var key = (parent, Hash(values));
                int unique = -1;
                if (known.TryGetValue(key, out var candidates))
                    foreach (int u in candidates)
                        if (rows.Slice(representatives[u] * width, width).SequenceEqual(values)) { unique = u; break; }
                if (unique < 0)
                {
                    unique = representatives.Count;
                    representatives.Add(row);
                    if (candidates is null) known[key] = candidates = [];
                    candidates.Add(unique);
                }
                expand[row] = unique;
                parent = unique;
            }
            for (int t = endPositions[b] + 1; t < seq; t++) expand[b * seq + t] = parent;
            endRows[b] = parent;
        }
        return new SharedPrefixLayout([.. representatives], expand, endRows);
    }

    /// <summary>
    /// The same layout from the prompts' structure instead of their values: <paramref name="keys"/>[b·seq + t] names
    /// what goes into position t of prompt b (a token id, or a distinct negative key per learned vector, equal for
    /// positions that receive the same vector). Equal keys at equal positions mean equal rows, so no values are needed
    /// and the layout can be built once per prompt set. Vectors that merely happen to be equal are not merged (exact
    /// either way).
    /// </summary>
    public static SharedPrefixLayout FromKeys(ReadOnlySpan<int> keys, int batch, int seq, int[] endPositions)
    {
        var representatives = new List<int>();
        var expand = new int[batch * seq];
        var endRows = new int[batch];
        var known = new Dictionary<(int Parent, int Key), int>();
        for (int b = 0; b < batch; b++)
        {
            int parent = -1;
            for (int t = 0; t <= endPositions[b]; t++)
            {
                int row = b * seq + t;
                if (!known.TryGetValue((parent, keys[row]), out int unique))
                {
                    unique = representatives.Count;
                    representatives.Add(row);
                    known[(parent, keys[row])] = unique;
                }
                expand[row] = unique;
                parent = unique;
            }
            for (int t = endPositions[b] + 1; t < seq; t++) expand[b * seq + t] = parent;
            endRows[b] = parent;
        }
        return new SharedPrefixLayout([.. representatives], expand, endRows);
    }

    private static long Hash(ReadOnlySpan<int> bits)
    {
        var h = new HashCode();
        foreach (int v in bits) h.Add(v);
        return h.ToHashCode();
    }
}
