using PromptAD.Terminal;


namespace PromptAD.Tests.Terminal;

public sealed class ConsoleOutputTests
{
    /// <summary>A clock the test moves by hand.</summary>
    private sealed class ManualClock : TimeProvider
    {
        public long Ticks { get; set; }

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Ticks;

        public void Advance(double seconds) => Ticks += (long)(seconds * TimeSpan.TicksPerSecond);
    }

    [Fact]
    public void RedirectedPrintsPlainLinesPerTenPercent()
    {
        var clock = new ManualClock();
        var w = new StringWriter();
        using (var p = new ConsoleProgress("test", 20, w, interactive: false, time: clock))
        {
            for (int i = 0; i < 20; i++)
            {
                clock.Advance(1);
                p.Advance();
            }
        }

        string[] lines = w.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);

        // Step 1 (decile 0), then every 2 steps a new decile up to 10; Complete adds no duplicate of 20/20.
        Assert.Equal(11, lines.Length);
        Assert.Equal("test 1/20   5% 0:01 ETA 0:19", lines[0]);
        Assert.Equal("test 10/20  50% 0:10 ETA 0:10", lines[5]);
        Assert.Equal("test 20/20 100% 0:20", lines[^1]);
        Assert.DoesNotContain('\r', w.ToString());
    }

    [Fact]
    public void RedirectedPrintsAtLeastEveryTenSeconds()
    {
        var clock = new ManualClock();
        var w = new StringWriter();
        var p = new ConsoleProgress("train", 1000, w, interactive: false, time: clock);
        p.Report(1);
        clock.Advance(11);
        p.Report(2);
        clock.Advance(1);
        p.Report(3);
        Assert.Equal(2, w.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public void InteractiveRedrawsInPlaceAndThrottles()
    {
        var clock = new ManualClock();
        var w = new StringWriter();
        var p = new ConsoleProgress("epochs", 4, w, interactive: true, time: clock);
        clock.Advance(2);
        p.Advance();
        p.Advance(); // within 100 ms of the last draw: skipped
        clock.Advance(2);
        p.Advance();
        p.Complete();
        p.Complete();
        string s = w.ToString();
        Assert.Equal(3, s.Count(c => c == '\r'));
        Assert.Contains("\repochs [######..................] 1/4  25% 0:02 ETA 0:06", s);
        Assert.EndsWith("epochs [##################......] 3/4  75% 0:04 ETA 0:01" + Environment.NewLine, s);
    }

    [Fact]
    public void Durations()
    {
        Assert.Equal("0:05", ConsoleProgress.FormatDuration(TimeSpan.FromSeconds(5)));
        Assert.Equal("2:03:04", ConsoleProgress.FormatDuration(new TimeSpan(2, 3, 4)));
        Assert.Equal("--:--", ConsoleProgress.FormatDuration(null));
    }

    [Fact]
    public void ParallelAdvancesCountEveryStep()
    {
        var p = new ConsoleProgress("x", 10_000, TextWriter.Null, interactive: false);
        Parallel.For(0, 10_000, _ => p.Advance());
        Assert.Equal(10_000, p.Done);
    }

    [Fact]
    public void SummaryTableAligns()
    {
        var t = new SummaryTable("category", "image AUROC", "time");
        t.AddRow("bottle", "99.2 ± 0.1", "12.5s");
        t.AddRow("screw", "61.0", "3s");
        Assert.Equal(
            "category  image AUROC   time\n"
            + "--------  -----------  -----\n"
            + "bottle     99.2 ± 0.1  12.5s\n"
            + "screw            61.0     3s\n",
            t.Render());
        Assert.Throws<ArgumentException>(() => t.AddRow("a", "b", "c", "d"));
    }
}
