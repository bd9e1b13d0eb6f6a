using PromptAD.Clip;
using PromptAD.Clip.Text;

namespace PromptAD.Prompting;

/// <summary>
/// The prompts of one head (SPEC §5.1) as token ids plus where the learned vectors go. Prompts are tokenized with a
/// one-token placeholder word ("X") at every learned position, whose embeddings are then replaced:
/// <list type="bullet">
/// <item>normal, one per i &lt; nPro: "X×nCtx {class}." — positions 1..nCtx get c_i;</item>
/// <item>manual anomaly, state-major (s, then i): "X×nCtx {state(class)}." — positions 1..nCtx get c_i;</item>
/// <item>learnable anomaly, j-major (j &lt; nProAb, then i): "X×(nCtx+nCtxAb) {class}." — 1..nCtx get c_i, then a_j.</item>
/// </list>
/// <see cref="LearnedRows"/> index the concatenation [ctx; ctx_ab] (ctx row i·nCtx + t, ctx_ab row j·nCtxAb + t),
/// in the order the text encoder consumes them, so one gather shares each vector between all prompts using it.
/// </summary>
public sealed class PromptSet
{
    /// <summary>The placeholder word: a single BPE token ("x&lt;/w&gt;"), checked at construction.</summary>
    public const string Placeholder = "X";

    private PromptSet(string className, IReadOnlyList<string> states, int nPro, int nCtx, int nProAb, int nCtxAb,
        int[][] tokenIds, int[][] positions, int[] learnedRows)
    {
        ClassName = className; States = states; NPro = nPro; NCtx = nCtx; NProAb = nProAb; NCtxAb = nCtxAb;
        TokenIds = tokenIds; LearnedPositions = positions; LearnedRows = learnedRows;
    }

    public string ClassName { get; }
    public IReadOnlyList<string> States { get; }
    public int NPro { get; }
    public int NCtx { get; }
    public int NProAb { get; }
    public int NCtxAb { get; }

    /// <summary>All prompts: normal, then manual, then learnable (model vocabulary ids, context length long).</summary>
    public int[][] TokenIds { get; }
    public int[][] LearnedPositions { get; }
    public int[] LearnedRows { get; }

    public int NormalCount => NPro;
    public int ManualCount => States.Count * NPro;
    public int LearnedCount => NProAb * NPro;
    public int CtxRows => NPro * NCtx;
    public int CtxAbRows => NProAb * NCtxAb;

    /// <summary>Generic states followed by the category's own (duplicates kept, as the authors concatenate the lists).</summary>
    public static IReadOnlyList<string> StatesFor(PromptStates prompts, string category) =>
        [.. prompts.GenericStates, .. prompts.StatesFor(category)];

    public static PromptSet Create(ClipConfig config, string className, IReadOnlyList<string> states,
        int nPro, int nCtx, int nProAb, int nCtxAb, ClipTokenizer? tokenizer = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(className);
        ArgumentOutOfRangeException.ThrowIfLessThan(nPro, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(nCtx, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(nProAb, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(nCtxAb, 1);
        if (states.Count == 0) throw new ArgumentException("at least one anomaly state is needed", nameof(states));
        tokenizer ??= ClipTokenizer.Default;
        var placeholderIds = tokenizer.Encode(Placeholder);
        if (placeholderIds.Length != 1)
            throw new InvalidOperationException($"placeholder '{Placeholder}' is {placeholderIds.Length} tokens, not one");

        var ids = new List<int[]>();
        var positions = new List<int[]>();
        var rows = new List<int>();
        void Add(string text, int i, int j)
        {
            int learned = nCtx + (j >= 0 ? nCtxAb : 0);
            string prompt = string.Join(' ', Enumerable.Repeat(Placeholder, learned)) + " " + text + ".";
            int ctxLength = config.Text.ContextLength;
            var clip = tokenizer.Encode(prompt);
            if (clip.Length + 2 > ctxLength)
                throw new ArgumentException($"prompt '{prompt}' is {clip.Length + 2} tokens, longer than the context of {ctxLength}");
            for (int p = 0; p < learned; p++)
                if (clip[p] != placeholderIds[0])
                    throw new InvalidOperationException($"prompt '{prompt}': position {p + 1} is not the placeholder token");
            ids.Add(TokenIdMapping.Map(tokenizer.Tokenize(prompt, ctxLength), config.Text));
            positions.Add(Enumerable.Range(1, learned).ToArray());
            for (int t = 0; t < nCtx; t++) rows.Add(i * nCtx + t);
            if (j >= 0) for (int t = 0; t < nCtxAb; t++) rows.Add(nPro * nCtx + j * nCtxAb + t);
        }

        for (int i = 0; i < nPro; i++) Add(className, i, -1);
        foreach (var s in states)
        {
            if (!s.Contains("{}", StringComparison.Ordinal)) throw new ArgumentException($"state '{s}' has no '{{}}' placeholder", nameof(states));
            for (int i = 0; i < nPro; i++) Add(s.Replace("{}", className, StringComparison.Ordinal), i, -1);
        }
        for (int j = 0; j < nProAb; j++)
            for (int i = 0; i < nPro; i++) Add(className, i, j);
        return new PromptSet(className, [.. states], nPro, nCtx, nProAb, nCtxAb, [.. ids], [.. positions], [.. rows]);
    }
}
