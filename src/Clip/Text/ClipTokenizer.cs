using System.IO.Compression;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace PromptAD.Clip.Text;

/// <summary>
/// CLIP's byte-level BPE tokenizer (openai/CLIP simple_tokenizer.py), exact for cleaned UTF-8 text.
/// </summary>
/// <remarks>
/// Split of work: Microsoft.ML.Tokenizers' <see cref="BpeTokenizer"/> does the byte-level mapping and
/// the merge loop (with the "&lt;/w&gt;" end-of-word suffix); we supply CLIP's vocabulary layout
/// (built from the embedded merges), its text cleaning (<see cref="ClipTextCleaner"/>), its
/// pre-tokenizer (<see cref="ClipPreTokenizer"/>), the special tokens and the 77-token framing.
/// Instances are immutable and thread-safe.
/// </remarks>
public sealed class ClipTokenizer
{
    public const int StartOfText = 49406;
    public const int EndOfText = 49407;
    public const int DefaultContextLength = 77;
    public const int VocabularySize = 49408;

    private const string ResourceName = "PromptAD.Clip.bpe_simple_vocab_16e6.txt.gz";
    private const string StartToken = "<|startoftext|>";
    private const string EndToken = "<|endoftext|>";

    // CLIP uses merges[1 : 49152 - 256 - 2 + 1]: skip the header line, keep 48894 merges, so that
    // 256 + 256 + 48894 + 2 = 49408 ids.
    private const int MergeCount = 49152 - 256 - 2;

    private static readonly Lazy<ClipTokenizer> LazyDefault =
        new(() => FromMerges(OpenEmbeddedMerges()), LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly BpeTokenizer _bpe;

    private ClipTokenizer(BpeTokenizer bpe) => _bpe = bpe;

    /// <summary>The tokenizer built from the embedded CLIP merges (created once, on first use).</summary>
    public static ClipTokenizer Default => LazyDefault.Value;

    /// <summary>Builds a tokenizer from a gzip-compressed CLIP merges file.</summary>
    public static ClipTokenizer FromMerges(Stream gzipMerges)
    {
        ArgumentNullException.ThrowIfNull(gzipMerges);
        List<string> merges = ReadMerges(gzipMerges);

        var vocab = new List<KeyValuePair<string, int>>(VocabularySize);
        foreach (char c in ByteUnicode.VocabularyOrder)
        {
            vocab.Add(new(c.ToString(), vocab.Count));
        }

        foreach (char c in ByteUnicode.VocabularyOrder)
        {
            vocab.Add(new(c + "</w>", vocab.Count));
        }

        foreach (string m in merges)
        {
            vocab.Add(new(m.Replace(" ", string.Empty, StringComparison.Ordinal), vocab.Count));
        }

        var specials = new Dictionary<string, int> { [StartToken] = StartOfText, [EndToken] = EndOfText };
        vocab.Add(new(StartToken, StartOfText));
        vocab.Add(new(EndToken, EndOfText));
        if (vocab.Count != VocabularySize)
        {
            throw new InvalidDataException($"CLIP merges file gave {vocab.Count} vocabulary entries, expected {VocabularySize}.");
        }

        var options = new BpeOptions(vocab)
        {
            Merges = merges,
            SpecialTokens = specials,
            PreTokenizer = ClipPreTokenizer.Instance,
            EndOfWordSuffix = "</w>",
            ByteLevel = true,
        };
        return new ClipTokenizer(BpeTokenizer.Create(options));
    }

    /// <summary>Token ids of <paramref name="text"/> without start/end tokens or padding.</summary>
    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string cleaned = ClipTextCleaner.Clean(text);
        if (cleaned.Length == 0)
        {
            return [];
        }

        return [.. _bpe.EncodeToIds(cleaned, considerPreTokenization: true, considerNormalization: false)];
    }

    /// <summary>
    /// [49406, tokens…, 49407] zero-padded to <paramref name="contextLength"/>. Too-long input is
    /// truncated and the last element replaced by the end token (open_clip's truncate behaviour),
    /// so <see cref="EndPosition"/> always finds it.
    /// </summary>
    public int[] Tokenize(string text, int contextLength = DefaultContextLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(contextLength, 2);
        int[] tokens = Encode(text);
        var result = new int[contextLength];
        result[0] = StartOfText;
        int n = Math.Min(tokens.Length, contextLength - 2);
        tokens.AsSpan(0, n).CopyTo(result.AsSpan(1));
        result[n + 1] = EndOfText;
        return result;
    }

    /// <summary>Index of the largest id, i.e. the end token's position in a <see cref="Tokenize"/> result.</summary>
    public static int EndPosition(ReadOnlySpan<int> ids)
    {
        if (ids.IsEmpty)
        {
            throw new ArgumentException("Token sequence is empty.", nameof(ids));
        }

        int best = 0;
        for (int i = 1; i < ids.Length; i++)
        {
            if (ids[i] > ids[best])
            {
                best = i; // first occurrence of the maximum, like torch.argmax
            }
        }

        return best;
    }

    private static Stream OpenEmbeddedMerges()
        => typeof(ClipTokenizer).Assembly.GetManifestResourceStream(ResourceName)
           ?? throw new InvalidOperationException($"Embedded resource '{ResourceName}' is missing from PromptAD.Clip.");

    private static List<string> ReadMerges(Stream gzipMerges)
    {
        using var gz = new GZipStream(gzipMerges, CompressionMode.Decompress);
        using var reader = new StreamReader(gz, Encoding.UTF8);
        reader.ReadLine(); // header ("#version: ...")
        var merges = new List<string>(MergeCount);
        while (merges.Count < MergeCount && reader.ReadLine() is { } line)
        {
            merges.Add(line);
        }

        if (merges.Count != MergeCount)
        {
            throw new InvalidDataException($"CLIP merges file has {merges.Count} merges, expected at least {MergeCount}.");
        }

        return merges;
    }
}
