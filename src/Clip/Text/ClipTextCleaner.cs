using System.Net;
using System.Text;

namespace PromptAD.Clip.Text;

/// <summary>
/// CLIP's text clean-up before pre-tokenization: basic_clean (HTML unescape twice, strip), then
/// whitespace_clean (runs of whitespace → one space, strip), then lower-case.
/// </summary>
/// <remarks>
/// Known difference: CLIP first runs ftfy.fix_text (mojibake repair, some Unicode normalization).
/// We do not; for clean UTF-8 prompts (all PromptAD builds) it makes no difference.
/// Lower-casing uses the invariant culture's simple case mapping; Python's str.lower() uses the
/// full mapping, which differs only for a handful of characters (e.g. U+0130 'İ').
/// </remarks>
internal static class ClipTextCleaner
{
    public static string Clean(string text)
    {
        // CLIP unescapes twice so doubly-escaped entities ("&amp;amp;") become plain text.
        string s = WebUtility.HtmlDecode(WebUtility.HtmlDecode(text));
        return CollapseWhitespace(s).ToLowerInvariant();
    }

    private static string CollapseWhitespace(string s)
    {
        var sb = new StringBuilder(s.Length);
        bool pendingSpace = false;
        foreach (char c in s)
        {
            if (char.IsWhiteSpace(c))
            {
                pendingSpace = sb.Length > 0; // leading whitespace is dropped (strip)
                continue;
            }

            if (pendingSpace)
            {
                sb.Append(' ');
                pendingSpace = false;
            }

            sb.Append(c);
        }

        return sb.ToString(); // trailing whitespace never gets appended (strip)
    }
}
