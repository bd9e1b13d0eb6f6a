using System.Globalization;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace PromptAD.Clip.Text;

/// <summary>
/// CLIP's pre-tokenizer: the splits of
/// <c>&lt;\|startoftext\|&gt;|&lt;\|endoftext\|&gt;|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+</c>
/// (case-insensitive) found left to right, as Python's regex.findall does.
/// </summary>
/// <remarks>
/// Written as a scanner over Unicode scalar values instead of a .NET Regex because .NET's regex
/// classifies UTF-16 code units: a supplementary-plane letter (e.g. CJK Extension B) would be seen as
/// two surrogates, i.e. punctuation, while Python's regex sees one letter. The scanner also needs
/// no regex engine under NativeAOT.
/// </remarks>
internal sealed class ClipPreTokenizer : PreTokenizer
{
    private static readonly string[] Specials = ["<|startoftext|>", "<|endoftext|>"];

    // Order matters: the regex tries alternatives in this order at each position.
    private static readonly string[] Contractions = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"];

    public static readonly ClipPreTokenizer Instance = new();

    public override IEnumerable<(int Offset, int Length)> PreTokenize(string text)
        => text is null ? [] : Split(text.AsSpan());

    public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text)
        => Split(text);

    /// <summary>Returns (offset, length) pairs in UTF-16 code units.</summary>
    public static List<(int Offset, int Length)> Split(ReadOnlySpan<char> text)
    {
        var result = new List<(int, int)>();
        int i = 0;
        while (i < text.Length)
        {
            int len = MatchAt(text, i);
            if (len > 0)
            {
                result.Add((i, len));
                i += len;
            }
            else
            {
                // No alternative matches only at whitespace; findall skips one character.
                i += RuneLength(text, i);
            }
        }

        return result;
    }

    private static int MatchAt(ReadOnlySpan<char> text, int i)
    {
        ReadOnlySpan<char> rest = text[i..];
        foreach (string s in Specials)
        {
            if (rest.StartsWith(s, StringComparison.OrdinalIgnoreCase))
            {
                return s.Length;
            }
        }

        foreach (string s in Contractions)
        {
            if (rest.StartsWith(s, StringComparison.OrdinalIgnoreCase))
            {
                return s.Length;
            }
        }

        CharClass first = Classify(text, i);
        switch (first)
        {
            case CharClass.Letter:
                return RunLength(text, i, CharClass.Letter);
            case CharClass.Number:
                return RuneLength(text, i); // [\p{N}] is a single character
            case CharClass.Other:
                return RunLength(text, i, CharClass.Other);
            default:
                return 0; // whitespace
        }
    }

    private static int RunLength(ReadOnlySpan<char> text, int start, CharClass cls)
    {
        int j = start;
        while (j < text.Length && Classify(text, j) == cls)
        {
            j += RuneLength(text, j);
        }

        return j - start;
    }

    private enum CharClass { Whitespace, Letter, Number, Other }

    private static CharClass Classify(ReadOnlySpan<char> text, int i)
    {
        if (Rune.DecodeFromUtf16(text[i..], out Rune r, out _) != System.Buffers.OperationStatus.Done)
        {
            return CharClass.Other; // lone surrogate: not a letter, number or space
        }

        if (Rune.IsWhiteSpace(r))
        {
            return CharClass.Whitespace;
        }

        switch (Rune.GetUnicodeCategory(r))
        {
            case UnicodeCategory.UppercaseLetter:
            case UnicodeCategory.LowercaseLetter:
            case UnicodeCategory.TitlecaseLetter:
            case UnicodeCategory.ModifierLetter:
            case UnicodeCategory.OtherLetter:
                return CharClass.Letter;
            case UnicodeCategory.DecimalDigitNumber:
            case UnicodeCategory.LetterNumber:
            case UnicodeCategory.OtherNumber:
                return CharClass.Number;
            default:
                return CharClass.Other;
        }
    }

    private static int RuneLength(ReadOnlySpan<char> text, int i)
        => Rune.DecodeFromUtf16(text[i..], out _, out int consumed) == System.Buffers.OperationStatus.Done ? consumed : 1;
}
