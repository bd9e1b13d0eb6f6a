using PromptAD.Clip;
using PromptAD.Clip.Text;

namespace PromptAD.Prompting;

/// <summary>
/// Maps CLIP BPE token ids onto a model's vocabulary. For the real vocabulary (49408 ids) this is the identity.
/// Tiny test configs have a small vocabulary (e.g. 64); there every word id becomes id mod (vocab − 2), the start and
/// end tokens become the config's <see cref="ClipTextConfig.StartToken"/>/<see cref="ClipTextConfig.EndToken"/>, and
/// padding after the end token is 0. The end token stays the largest id, so end-position detection still works.
/// tests/reference/promptad_reference.py applies the same mapping.
/// </summary>
public static class TokenIdMapping
{
    public static int[] Map(int[] clipIds, ClipTextConfig text)
    {
        if (text.VocabSize == ClipTokenizer.VocabularySize) return clipIds;
        int end = ClipTokenizer.EndPosition(clipIds);
        var mapped = new int[clipIds.Length];
        for (int i = 0; i <= end; i++)
            mapped[i] = clipIds[i] switch
            {
                ClipTokenizer.StartOfText => text.StartToken,
                ClipTokenizer.EndOfText => text.EndToken,
                var id => id % (text.VocabSize - 2),
            };
        return mapped;
    }
}
