using System.Collections.Concurrent;

namespace PromptAD.Model;

/// <summary>
/// Notices about inputs that still work but behave in a way the user should know (e.g. an older model file), written
/// to standard error once per process however many files or categories trigger them.
/// </summary>
public static class OnceNotice
{
    private static readonly ConcurrentDictionary<string, bool> Said = new(StringComparer.Ordinal);

    /// <summary>Writes "promptad: notice: <paramref name="message"/>" the first time this message is given.</summary>
    public static void Write(string message)
    {
        if (Said.TryAdd(message, true)) Console.Error.WriteLine($"promptad: notice: {message}");
    }
}
