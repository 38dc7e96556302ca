using Masking.Experiments.Cli;
using System.Diagnostics;
using Spectre.Console;

namespace Masking.Experiments.Training;

/// <summary>Where a training loop reports: a live Spectre.Console bar on a terminal, plain lines otherwise.</summary>
public interface IProgressSink
{
    void Report(long step, long total, double loss, double tokensPerSecond);
    void Message(string line);
}

public sealed class LineProgress(TextWriter output, string stage, int every) : IProgressSink
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public void Report(long step, long total, double loss, double tokensPerSecond)
    {
        if (step % every != 0 && step != total) return;
        var eta = step > 0 ? TimeSpan.FromSeconds(_clock.Elapsed.TotalSeconds / step * (total - step)) : TimeSpan.Zero;
        output.WriteLine($"{stage} step {step}/{total} loss {loss:F4} {tokensPerSecond:F0} tok/s eta {Durations.Clock(eta)}");
    }

    public void Message(string line) => output.WriteLine($"{stage} {line}");
}

/// <summary>Runs a loop under a live Spectre.Console progress bar with loss, tokens/s and ETA.</summary>
public static class LiveProgress
{
    public static T Run<T>(string stage, long total, long start, Func<IProgressSink, T> body)
    {
        T result = default!;
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(stage, maxValue: total);
                task.Increment(start);
                result = body(new Sink(task, stage));
            });
        return result;
    }

    private sealed class Sink(ProgressTask task, string stage) : IProgressSink
    {
        public void Report(long step, long total, double loss, double tokensPerSecond)
        {
            task.Value = step;
            task.Description = $"{stage} loss {loss:F3} {tokensPerSecond:F0} tok/s";
        }

        public void Message(string line) => AnsiConsole.MarkupLine(Markup.Escape($"{stage} {line}"));
    }
}
