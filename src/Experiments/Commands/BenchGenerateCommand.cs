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
    public static int Run(Args args, TextWriter stdout, TextWriter stderr)
    {
        var presetName = args.Optional("preset") ?? "tiny";
        var beam = args.Int("beam", 4, min: 1);
        var batchSize = args.Int("batch-size", 16, min: 1);
        var sourceLength = args.Int("source-length", 64, min: 2);
        var maxLength = args.Int("max-length", 32, min: 2);
        var vocab = args.Int("vocab", 8000, min: 16);
        var repeats = args.Int("repeats", 1, min: 1);
        var threads = args.Int("threads", 0, min: 0);
        var cache = args.Optional("no-cache") is null;
        args.EnsureAllUsed("bench generate");
        if (threads > 0) torch.set_num_threads(threads);
        var preset = ModelConfigModule.tryPreset(presetName)?.Value ?? throw new CliError($"--preset: unknown preset '{presetName}'");
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
