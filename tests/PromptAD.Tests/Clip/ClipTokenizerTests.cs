using System.Text.Json;
using PromptAD.Clip.Text;

namespace PromptAD.Tests.Clip;

/// <summary>
/// Compares <see cref="ClipTokenizer"/> with golden ids from tests/reference/clip_tokenizer_reference.py,
/// an independent Python implementation of CLIP's SimpleTokenizer (every PromptAD prompt plus
/// punctuation, digits, Unicode, emoji, HTML entities, whitespace, case, contractions, long inputs).
/// </summary>
public class ClipTokenizerTests
{
    private sealed record Case(string Text, int[] Ids, int[] Tokenized);

    private static readonly Lazy<List<Case>> Cases = new(LoadCases);

    private static List<Case> LoadCases()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(ClipTestPaths.Golden("tokenizer", "clip_tokens.json")));
        var list = new List<Case>();
        foreach (JsonElement e in doc.RootElement.EnumerateArray())
        {
            list.Add(new Case(
                e.GetProperty("text").GetString()!,
                [.. e.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32())],
                [.. e.GetProperty("tokenized").EnumerateArray().Select(x => x.GetInt32())]));
        }

        return list;
    }

    [Fact]
    public void Encode_MatchesReferenceForAllGoldenStrings()
    {
        var tok = ClipTokenizer.Default;
        Assert.True(Cases.Value.Count > 300);
        var failures = new List<string>();
        foreach (Case c in Cases.Value)
        {
            int[] got = tok.Encode(c.Text);
            if (!got.SequenceEqual(c.Ids))
            {
                failures.Add($"{JsonSerializer.Serialize(c.Text)}: expected [{string.Join(",", c.Ids)}] got [{string.Join(",", got)}]");
            }
        }

        Assert.True(failures.Count == 0, $"{failures.Count} mismatches:\n" + string.Join("\n", failures.Take(20)));
    }

    [Fact]
    public void Tokenize_MatchesReferenceWithPaddingAndTruncation()
    {
        var tok = ClipTokenizer.Default;
        foreach (Case c in Cases.Value)
        {
            int[] got = tok.Tokenize(c.Text);
            Assert.Equal(77, got.Length);
            int[] expected = [.. c.Tokenized, .. new int[77 - c.Tokenized.Length]];
            Assert.Equal(expected, got);
            // argmax semantics: the first end token (text containing "<|endoftext|>" has two).
            Assert.Equal(Array.IndexOf(expected, ClipTokenizer.EndOfText), ClipTokenizer.EndPosition(got));
        }
    }

    [Fact]
    public void Tokenize_TruncatesKeepingEndToken()
    {
        string text = string.Concat(Enumerable.Repeat("damaged bottle ", 60));
        int[] ids = ClipTokenizer.Default.Tokenize(text, contextLength: 16);
        Assert.Equal(16, ids.Length);
        Assert.Equal(ClipTokenizer.StartOfText, ids[0]);
        Assert.Equal(ClipTokenizer.EndOfText, ids[^1]);
        Assert.Equal(15, ClipTokenizer.EndPosition(ids));
    }

    [Fact]
    public void Tokenize_KnownPrompt()
    {
        // "a photo of a" is [320, 1125, 539, 320] in CLIP; "." is 269.
        int[] ids = ClipTokenizer.Default.Tokenize("A photo of a bottle.");
        Assert.Equal([49406, 320, 1125, 539, 320, 5392, 269, 49407, 0], ids[..9]);
        Assert.Equal(7, ClipTokenizer.EndPosition(ids));
    }

    [Fact]
    public void Default_IsSharedAcrossThreads()
    {
        var seen = new ClipTokenizer[8];
        Parallel.For(0, seen.Length, i => seen[i] = ClipTokenizer.Default);
        Assert.All(seen, t => Assert.Same(seen[0], t));
        int[][] results = new int[8][];
        Parallel.For(0, results.Length, i => results[i] = ClipTokenizer.Default.Encode("metal nut with a flipped orientation"));
        Assert.All(results, r => Assert.Equal(results[0], r));
    }
}
