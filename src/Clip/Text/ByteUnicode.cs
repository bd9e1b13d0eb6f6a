namespace PromptAD.Clip.Text;

/// <summary>
/// CLIP/GPT-2's reversible byte → Unicode character table (bytes_to_unicode). Printable Latin-1 bytes
/// map to themselves; the other 68 bytes map to U+0100.. so that no BPE symbol is whitespace or a
/// control character. The vocabulary's first 256 entries are these characters in this order.
/// </summary>
internal static class ByteUnicode
{
    /// <summary>Characters in vocabulary order (the order bytes_to_unicode's dict iterates in).</summary>
    public static readonly IReadOnlyList<char> VocabularyOrder = BuildOrder();

    private static char[] BuildOrder()
    {
        var order = new List<(int Byte, char Char)>(256);
        var printable = new bool[256];
        // Same three ranges as CLIP: '!'..'~', '¡'..'¬', '®'..'ÿ' keep their code point.
        foreach (var (lo, hi) in new[] { ('!', '~'), ('¡', '¬'), ('®', 'ÿ') })
        {
            for (int b = lo; b <= hi; b++)
            {
                printable[b] = true;
                order.Add((b, (char)b));
            }
        }

        int n = 0;
        for (int b = 0; b < 256; b++)
        {
            if (!printable[b])
            {
                order.Add((b, (char)(256 + n)));
                n++;
            }
        }

        return order.Select(p => p.Char).ToArray();
    }
}
