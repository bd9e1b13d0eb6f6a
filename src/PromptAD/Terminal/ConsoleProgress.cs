using System.Globalization;
using System.Text;

namespace PromptAD.Terminal;

/// <summary>
/// A progress bar with ETA for long work (training epochs, test images), written to stderr so stdout stays clean
/// for results. On a terminal it redraws one line in place ("\r"), at most 10 times a second; when stderr is
/// redirected (logs, CI) it prints a plain line at every 10 % step or every 10 seconds, whichever comes first, so
/// logs stay short but show the run is alive. Thread-safe: parallel workers may call <see cref="Advance"/>.
/// </summary>
/// <remarks>Our own code rather than Spectre.Console: nothing here needs reflection, so it is AOT-clean by construction.</remarks>
public sealed class ConsoleProgress : IDisposable
{
    private static readonly TimeSpan RedrawInterval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan PlainInterval = TimeSpan.FromSeconds(10);
    private const int BarWidth = 24;

    private readonly object gate = new();
    private readonly TextWriter writer;
    private readonly TimeProvider time;
    private readonly long started;
    private long lastDrawn;
    private int lastDecile = -1;
    private int done;
    private int lastLineLength;
    private int lastPrintedDone = -1;
    private bool finished;

    /// <param name="label">What is being counted, e.g. "train" or "test bottle".</param>
    /// <param name="total">Number of steps; must be positive.</param>
    /// <param name="writer">Defaults to <see cref="Console.Error"/>.</param>
    /// <param name="interactive">Redraw in place; defaults to "stderr is a terminal" (not <see cref="Console.IsErrorRedirected"/>).</param>
    /// <param name="time">Clock (tests inject one); defaults to <see cref="TimeProvider.System"/>.</param>
    public ConsoleProgress(string label, int total, TextWriter? writer = null, bool? interactive = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(label);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(total);
        Label = label;
        Total = total;
        this.writer = writer ?? Console.Error;
        Interactive = interactive ?? (writer is null && !Console.IsErrorRedirected);
        this.time = time ?? TimeProvider.System;
        started = this.time.GetTimestamp();
        lastDrawn = started;
    }

    public string Label { get; }

    public int Total { get; }

    public bool Interactive { get; }

    public int Done
    {
        get
        {
            lock (gate)
            {
                return done;
            }
        }
    }

    public void Advance(int steps = 1) => Report(0, relative: steps);

    /// <summary>Sets the number of steps done (clamped to <see cref="Total"/>).</summary>
    public void Report(int stepsDone) => Report(stepsDone, relative: null);

    /// <summary>Draws the final state (100 % or wherever it stopped) and ends the line. Idempotent.</summary>
    public void Complete()
    {
        lock (gate)
        {
            if (finished)
            {
                return;
            }

            finished = true;

            // A log already showing the last count gets no duplicate line; a terminal needs its line ended.
            if (Interactive || lastPrintedDone != done)
            {
                Draw(final: true);
            }
        }
    }

    public void Dispose() => Complete();

    /// <summary>"1:05" under an hour, "2:03:04" above; "--:--" when unknown.</summary>
    public static string FormatDuration(TimeSpan? t)
    {
        if (t is not { } span || span < TimeSpan.Zero || span.TotalDays >= 100)
        {
            return "--:--";
        }

        int total = (int)Math.Round(span.TotalSeconds);
        return total >= 3600
            ? string.Create(CultureInfo.InvariantCulture, $"{total / 3600}:{total / 60 % 60:00}:{total % 60:00}")
            : string.Create(CultureInfo.InvariantCulture, $"{total / 60}:{total % 60:00}");
    }

    private void Report(int value, int? relative)
    {
        lock (gate)
        {
            if (finished)
            {
                return;
            }

            // Under concurrency Advance must add to the current count, not to the one read before taking the lock.
            done = Math.Clamp(relative is { } r ? done + r : value, 0, Total);
            long now = time.GetTimestamp();
            if (Interactive)
            {
                if (time.GetElapsedTime(lastDrawn, now) >= RedrawInterval || done == Total)
                {
                    lastDrawn = now;
                    Draw(final: false);
                }

                return;
            }

            int decile = done * 10 / Total;
            if (decile > lastDecile || time.GetElapsedTime(lastDrawn, now) >= PlainInterval)
            {
                lastDecile = decile;
                lastDrawn = now;
                Draw(final: false);
            }
        }
    }

    private void Draw(bool final)
    {
        TimeSpan elapsed = time.GetElapsedTime(started);
        TimeSpan? eta = done == 0 ? null : TimeSpan.FromTicks((long)(elapsed.Ticks * (double)(Total - done) / done));
        int percent = (int)(100L * done / Total);
        var sb = new StringBuilder();
        sb.Append(Label).Append(' ');
        if (Interactive)
        {
            int filled = (int)((long)BarWidth * done / Total);
            sb.Append('[').Append('#', filled).Append('.', BarWidth - filled).Append("] ");
        }

        sb.Append(CultureInfo.InvariantCulture, $"{done}/{Total} {percent,3}% {FormatDuration(elapsed)}");
        if (done < Total)
        {
            sb.Append(" ETA ").Append(FormatDuration(eta));
        }

        string line = sb.ToString();
        lastPrintedDone = done;
        if (Interactive)
        {
            // Pad over the previous, possibly longer, line instead of relying on terminal erase sequences.
            writer.Write('\r' + line.PadRight(lastLineLength));
            lastLineLength = line.Length;
            if (final)
            {
                writer.Write(Environment.NewLine);
            }
        }
        else
        {
            writer.WriteLine(line);
        }

        writer.Flush();
    }
}
