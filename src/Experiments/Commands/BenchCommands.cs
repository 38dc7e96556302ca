using System.CommandLine;
using Masking.Experiments.Cli;
using Masking.Model;

namespace Masking.Experiments.Commands;

/// <summary><c>masking bench mask | train | generate</c>: throughput figures for bench/, compared side by side with Python.</summary>
public static class BenchCommands
{
    public static Command Build(TextWriter stdout, TextWriter stderr) =>
        new("bench", "throughput benchmarks (see bench/ for the side-by-side comparisons)")
        {
            BenchMaskCommand.Build(stdout, stderr), BenchTrainCommand.Build(stdout, stderr), BenchGenerateCommand.Build(stdout, stderr),
        };
}

/// <summary>The options the benchmarks share, with bounds past which a run would only exhaust the machine's memory.</summary>
internal static class BenchOptions
{
    public const int MaxBatch = 4096;
    public const int MaxLength = 8192;

    public static Option<string> Preset() =>
        Opts.Choice("--preset", "the model's size", "tiny", [.. ModelConfigModule.presets.Select(p => p.Item1)]);

    public static Option<int> Vocab() => Opts.Int("--vocab", 8000, "the random model's vocabulary", min: 16, max: 262_144);
}
