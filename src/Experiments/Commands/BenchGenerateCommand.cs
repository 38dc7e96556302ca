using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Masking.Experiments.Cli;
using Masking.Experiments.Training;
using Masking.Model;
using Microsoft.FSharp.Core;
using TorchSharp;

namespace Masking.Experiments.Commands;

/// <summary>
/// <c>masking bench generate --preset tiny [--beam 4] [--batch-size 16] [--source-length 64] [--max-length 32]
/// [--no-cache]</c>: Hugging Face-style generation (<see cref="Generation"/>) with a randomly initialised model on
/// random sources; prints <c>generated_tokens_per_second=N</c> (the tokens of the returned sequences) and the peak
/// resident memory. No token is forced and </s> is never preferred by a random model, so every row runs to the
/// maximum length and the two modes do the same number of steps. bench/generate_torch.py is the PyTorch side.
/// </summary>
public static class BenchGenerateCommand
{
    private sealed record Settings(string PresetName, int Beam, int BatchSize, int SourceLength, int MaxLength, int Vocab, int Repeats,
        int Threads, bool NoCache);

    public static Command Build(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("generate", "generated tokens per second of a random model on random sources; bench/generate_torch.py is the PyTorch side");
        var preset = BenchOptions.Preset();
        var beam = Opts.Int("--beam", 4, "beams", min: 1, max: 1024);
        var batchSize = Opts.Int("--batch-size", 16, "sources decoded together", min: 1, max: BenchOptions.MaxBatch);
        var sourceLength = Opts.Int("--source-length", 64, "tokens a source", min: 2, max: BenchOptions.MaxLength);
        var maxLength = Opts.Int("--max-length", 32, "the output's length", min: 2, max: BenchOptions.MaxLength);
        var vocab = BenchOptions.Vocab();
        var repeats = Opts.Int("--repeats", 1, "timed generations", min: 1);
        var threads = CommonOptions.Threads(command);
        var noCache = Opts.Flag("--no-cache", "without the key/value cache");
        foreach (var o in new Option[] { preset, beam, batchSize, sourceLength, maxLength, vocab, repeats, noCache }) command.Options.Add(o);
        command.SetAction(p => Run(new Settings(p.GetValue(preset)!, p.GetValue(beam), p.GetValue(batchSize), p.GetValue(sourceLength),
            p.GetValue(maxLength), p.GetValue(vocab), p.GetValue(repeats), p.GetValue(threads), p.GetValue(noCache)), stdout, stderr));
        return command;
    }

    private static int Run(Settings bench, TextWriter stdout, TextWriter stderr)
    {
        var (presetName, beam, batchSize, sourceLength, maxLength, vocab, repeats, threads, noCache) = bench;
        var cache = !noCache;
        if (threads > 0) torch.set_num_threads(threads);
        var preset = ModelConfigModule.tryPreset(presetName)!.Value;
        var config = ModelConfigModule.forVocabulary(preset, vocab, 1, 2, Math.Max(sourceLength, maxLength));
        using var scope = torch.NewDisposeScope();
        var parameters = ParametersModule.init(config, 0, torch.CPU);
        var rng = new Random(0);
        var pairs = Enumerable.Range(0, batchSize)
            .Select(_ => new SequencePair([0, .. Enumerable.Range(0, sourceLength - 2).Select(_ => rng.Next(3, vocab)), 2], [2])).ToList();
        using var batch = Batch.Create(pairs, 1, 2, torch.CPU);
        var none = FSharpOption<int>.None;
        var settings = new GenerationSettings(maxLength, 0, beam, 1.0, true, 0, none, none, cache);

        Generation.generate(config, parameters, settings, batch.Source); // warm-up
        var clock = Stopwatch.StartNew();
        long tokens = 0;
        for (var r = 0; r < repeats; r++)
            tokens += Generation.generate(config, parameters, settings, batch.Source).Sum(row => (long)row.Length);
        var seconds = clock.Elapsed.TotalSeconds;
        using var self = Process.GetCurrentProcess();
        stderr.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"bench generate: {presetName} d={config.DModel} layers={config.EncoderLayers}+{config.DecoderLayers} vocab={vocab} beam={beam} batch={batchSize} source={sourceLength} max_length={maxLength} cache={cache} threads={torch.get_num_threads()} {seconds / repeats:F2} s/batch"));
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"generated_tokens_per_second={tokens / seconds:F1}"));
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"peak_rss_mib={self.PeakWorkingSet64 / 1048576.0:F0}"));
        return 0;
    }
}
