using System.Text;
using System.Text.RegularExpressions;
using PromptAD.Tests.Ops;

namespace PromptAD.Tests.Cli;

/// <summary>
/// Command-line flags are named only by the command line (src/PromptAD/Cli and Program.cs): library code speaks of
/// values, files and folders, and the CLI maps its errors to the option that gave them. Every string literal of the
/// other sources (comments excluded) is searched for a <c>--name</c>.
/// </summary>
public sealed class NoFlagNamesBelowCliTests
{
    /// <summary>Flags of other programs that library code hands to them or quotes, never ours.</summary>
    private static readonly HashSet<string> OtherProgramsFlags = new(StringComparer.Ordinal)
    {
        "--gpu-architecture", "--std", // NVRTC's compile options (Kernels/KernelCompiler)
        "--gpus", // `docker run --gpus all` in the advice when no GPU is visible (Kernels/Native/CudaLibraryResolver)
    };

    private static readonly Regex Flag = new(@"(?<![\w-])--[a-z][a-z0-9-]*", RegexOptions.CultureInvariant);

    [Fact]
    public void NoStringLiteralOutsideTheCliNamesAFlag()
    {
        string src = Path.Combine(EmulatedKernels.RepositoryRoot(), "src");
        string cli = Path.Combine(src, "PromptAD", "Cli") + Path.DirectorySeparatorChar;
        string program = Path.Combine(src, "PromptAD", "Program.cs");
        var hits = new List<string>();
        int files = 0;
        foreach (string file in Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            if (file.StartsWith(cli, StringComparison.Ordinal) || file == program || file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                || file.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
                continue;
            files++;
            foreach (var (line, literal) in StringLiterals(File.ReadAllText(file)))
                foreach (Match m in Flag.Matches(literal))
                    if (!OtherProgramsFlags.Contains(m.Value))
                        hits.Add($"{Path.GetRelativePath(src, file)}:{line}: {m.Value} in \"{literal}\"");
        }
        Assert.True(files > 50, $"only {files} source files found under {src}");
        Assert.True(hits.Count == 0, "flag names below the CLI:\n" + string.Join("\n", hits));
    }

    [Fact]
    public void TheScannerFindsLiteralsOfEveryKindAndSkipsComments()
    {
        const string code = """"
            // "--comment" in a line comment
            /* "--block" in a block comment */
            var a = "plain --one";
            var b = @"verbatim ""--two""";
            var c = $"interpolated {x} --three {(y ? "--four" : "z")}";
            var d = $@"both --five";
            char e = '"'; var f = "after a quote char --six";
            var g = x--; var h = "--seven";
            """";
        var found = StringLiterals(code).SelectMany(l => Flag.Matches(l.Text).Select(m => m.Value)).ToList();
        // A hole's literals are found before the string around them ends.
        Assert.Equal(["--one", "--two", "--four", "--three", "--five", "--six", "--seven"], found);
    }

    /// <summary>The text of every string literal (regular, verbatim, interpolated, raw; the literal parts of an
    /// interpolation's holes included) with its line, skipping comments and character literals.</summary>
    internal static List<(int Line, string Text)> StringLiterals(string code)
    {
        var found = new List<(int, string)>();
        int i = 0, line = 1;
        ScanCode(code, ref i, ref line, found, stopAtBrace: false);
        return found;
    }

    private static void ScanCode(string s, ref int i, ref int line, List<(int, string)> found, bool stopAtBrace)
    {
        int depth = 0;
        while (i < s.Length)
        {
            char c = s[i];
            if (c == '\n') { line++; i++; }
            else if (c == '/' && At(s, i + 1, '/')) { while (i < s.Length && s[i] != '\n') i++; }
            else if (c == '/' && At(s, i + 1, '*'))
            {
                i += 2;
                while (i < s.Length && !(s[i] == '*' && At(s, i + 1, '/'))) { if (s[i] == '\n') line++; i++; }
                i += 2;
            }
            else if (c == '\'')
            {
                i++;
                while (i < s.Length && s[i] != '\'') i += s[i] == '\\' ? 2 : 1;
                i++;
            }
            else if (c is '"' or '$' or '@' && StringStart(s, i) is { } start) ScanString(s, ref i, ref line, found, start);
            else if (c == '{') { depth++; i++; }
            else if (c == '}')
            {
                if (stopAtBrace && depth == 0) return;
                depth--;
                i++;
            }
            else i++;
        }
    }

    private sealed record Start(bool Verbatim, bool Interpolated, int Dollars, int RawQuotes, int Length);

    /// <summary>The prefix of a string literal at <paramref name="i"/> ($, @, quotes), or null.</summary>
    private static Start? StringStart(string s, int i)
    {
        int j = i, dollars = 0;
        bool verbatim = false;
        while (j < s.Length && (s[j] == '$' || s[j] == '@'))
        {
            if (s[j] == '$') dollars++;
            else verbatim = true;
            j++;
        }
        if (!At(s, j, '"')) return null;
        if (j > i && i > 0 && (char.IsLetterOrDigit(s[i - 1]) || s[i - 1] == '_')) return null;
        int quotes = 0;
        while (At(s, j + quotes, '"')) quotes++;
        int raw = quotes >= 3 ? quotes : 0;
        return new Start(verbatim, dollars > 0, Math.Max(dollars, 1), raw, j - i + (raw > 0 ? raw : 1));
    }

    private static void ScanString(string s, ref int i, ref int line, List<(int, string)> found, Start start)
    {
        i += start.Length;
        int startLine = line;
        var text = new StringBuilder();
        string rawEnd = new('"', start.RawQuotes);
        while (i < s.Length)
        {
            char c = s[i];
            if (start.RawQuotes > 0 && string.CompareOrdinal(s, i, rawEnd, 0, rawEnd.Length) == 0) { i += rawEnd.Length; break; }
            if (start.RawQuotes == 0 && c == '"')
            {
                if (start.Verbatim && At(s, i + 1, '"')) { text.Append('"'); i += 2; continue; }
                i++;
                break;
            }
            if (start.RawQuotes == 0 && !start.Verbatim && c == '\\') { text.Append(s, i, Math.Min(2, s.Length - i)); i += 2; continue; }
            if (start.Interpolated && c == '{')
            {
                int braces = 0;
                while (At(s, i + braces, '{')) braces++;
                // Escaped braces: doubled in a plain interpolated string, fewer than the dollars in a raw one.
                if (start.RawQuotes == 0 ? braces % 2 == 0 : braces < start.Dollars) { text.Append('{', braces); i += braces; continue; }
                // A hole: code (with its own literals) up to the matching brace.
                text.Append(' ');
                i += braces;
                ScanCode(s, ref i, ref line, found, stopAtBrace: true);
                i++; // the closing brace
                continue;
            }
            if (c == '\n') line++;
            text.Append(c);
            i++;
        }
        found.Add((startLine, text.ToString()));
    }

    private static bool At(string s, int i, char c) => i < s.Length && s[i] == c;
}
