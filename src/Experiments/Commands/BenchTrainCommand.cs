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
/// <c>masking bench train --preset tiny</c>: forward + backward + AdamW on random batches (batch 32, source 64,
/// target 64, vocab 8000 by default); prints <c>target_tokens_per_second=N</c>, the achieved FLOP/s and, with
/// <c>--peak</c>, the FLOP/s of a large matmul for comparison. <c>--memory-steps N</c> prints the process's
/// resident memory every N/10 steps, <c>--phases</c> the mean time of each phase of a step (forward, loss,
/// backward, clipping, AdamW, zeroing). bench/train_step_torch.py runs the same model and step in PyTorch.
/// </summary>
public static class BenchTrainCommand
{
    private sealed record Settings(string PresetName, int BatchSize, int SourceLength, int TargetLength, int Vocab, double Seconds,
        int Threads, int MemorySteps, bool Peak, int Warmup, bool Phases);

    public static Command Build(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("train", "training steps per second on random batches (forward, backward, AdamW); bench/train_step_torch.py is the PyTorch side");
        var preset = BenchOptions.Preset();
        var batchSize = Opts.Int("--batch-size", 32, "examples a step", min: 1, max: BenchOptions.MaxBatch);
        var sourceLength = Opts.Int("--source-length", 64, "source tokens an example", min: 2, max: BenchOptions.MaxLength);
        var targetLength = Opts.Int("--target-length", 64, "target tokens an example", min: 2, max: BenchOptions.MaxLength);
        var vocab = BenchOptions.Vocab();
        var seconds = Opts.Double("--seconds", 10, "how long to time", min: 0.1, max: 86_400);
        var threads = CommonOptions.Threads(command);
        var memorySteps = Opts.Int("--memory-steps", 0, "print the resident memory every N/10 steps over N steps (0: off)", min: 0);
        var peak = Opts.Flag("--peak", "also time a large matmul, the machine's peak FLOP/s for comparison");
        var warmup = Opts.Int("--warmup-steps", 3, "untimed steps first", min: 0);
        var phases = Opts.Flag("--phases", "the mean time of each phase of a step");
        foreach (var o in new Option[] { preset, batchSize, sourceLength, targetLength, vocab, seconds, memorySteps, peak, warmup, phases })
            command.Options.Add(o);
        command.SetAction(p => Run(new Settings(p.GetValue(preset)!, p.GetValue(batchSize), p.GetValue(sourceLength), p.GetValue(targetLength),
            p.GetValue(vocab), p.GetValue(seconds), p.GetValue(threads), p.GetValue(memorySteps), p.GetValue(peak), p.GetValue(warmup),
            p.GetValue(phases)), stdout, stderr));
        return command;
    }

    private static int Run(Settings settings, TextWriter stdout, TextWriter stderr)
    {
        var (presetName, batchSize, sourceLength, targetLength, vocab, seconds, threads, memorySteps, peak, warmup, phases) = settings;
        if (threads > 0) torch.set_num_threads(threads);
        var preset = ModelConfigModule.tryPreset(presetName)!.Value;
        var config = ModelConfigModule.forVocabulary(preset, vocab, 1, 2, Math.Max(sourceLength, targetLength));
        var state = ModelState.Fresh(config, 0, torch.CPU);
        var run = new RunConfig { Stage = "bench", Steps = int.MaxValue, LearningRate = 1e-4 };
        var trainer = new Trainer(state, run, new RunDirectory(Path.GetTempPath()), new LineProgress(TextWriter.Null, "bench", int.MaxValue));

        var rng = new Random(0);
        SequencePair Pair() => new(
            Enumerable.Range(0, sourceLength).Select(_ => rng.Next(3, vocab)).ToArray(),
            Enumerable.Range(0, targetLength).Select(_ => rng.Next(3, vocab)).ToArray());
        using var batch = Batch.Create(Enumerable.Range(0, batchSize).Select(_ => Pair()).ToList(), 1, 2, torch.CPU);

        // Warm-up (allocator, JIT), then timed steps.
        for (var i = 0; i < warmup; i++) trainer.Step(batch, i, 1e-4);
        if (memorySteps > 0)
        {
            var every = Math.Max(1, memorySteps / 10);
            for (var i = 1; i <= memorySteps; i++)
            {
                trainer.Step(batch, i, 1e-4);
                if (i == 1 || i % every == 0)
                {
                    using var self = Process.GetCurrentProcess();
                    stdout.WriteLine($"step={i} rss_mib={self.WorkingSet64 / 1048576.0:F1}");
                }
            }
        }
        var clock = Stopwatch.StartNew();
        var steps = 0;
        while (clock.Elapsed.TotalSeconds < seconds || steps == 0)
        {
            trainer.Step(batch, steps, 1e-4);
            steps++;
        }
        var perStep = clock.Elapsed.TotalSeconds / steps;
        if (phases) PrintPhases(state, run, batch, steps, stdout);
        var flops = TrainingFlops(config, batchSize, sourceLength, targetLength);
        stderr.WriteLine($"bench train: {presetName} d={config.DModel} layers={config.EncoderLayers}+{config.DecoderLayers} vocab={vocab} batch={batchSize}x{sourceLength}->{targetLength} threads={torch.get_num_threads()} steps={steps} {perStep * 1000:F1} ms/step");
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"achieved_gflops={flops / perStep / 1e9:F1}"));
        if (peak) stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"matmul_peak_gflops={MatmulPeak():F1}"));
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"target_tokens_per_second={batchSize * targetLength / perStep:F1}"));
        using (var self = Process.GetCurrentProcess())
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"peak_rss_mib={self.PeakWorkingSet64 / 1048576.0:F0}"));
        return 0;
    }

    /// <summary>2 × multiply-adds of the forward pass × 3 (forward + backward), counting matmuls only.</summary>
    public static double TrainingFlops(ModelConfig c, int b, int s, int t)
    {
        double d = c.DModel, f = c.FfnDim, v = c.VocabSize;
        double enc = b * s, dec = b * t;
        var encoder = c.EncoderLayers * (enc * (4 * d * d + 2 * d * f) + enc * 2 * s * d);
        var decoder = c.DecoderLayers * (dec * (4 * d * d + 2 * d * f) + dec * 2 * t * d   // self-attention and FFN
                                         + dec * 2 * d * d + enc * 2 * d * d + dec * 2 * s * d); // cross-attention
        var output = dec * d * v;
        return 3 * 2 * (encoder + decoder + output);
    }

    /// <summary>The step of <see cref="Trainer.Step"/> cut into its phases, each timed over the same number of
    /// steps, so that the profile says where a step's time goes (forward, loss, backward, clipping, AdamW).</summary>
    private static void PrintPhases(ModelState state, RunConfig run, Batch batch, int steps, TextWriter stdout)
    {
        var names = new[] { "forward", "loss", "backward", "clip", "adamw", "zero_grad" };
        var totals = new double[names.Length];
        var settings = AdamW.settingsWith(run.WeightDecay);
        // After the timed run: packing again leaves the trainer's own buffers behind, which it no longer needs.
        var flat = FlatAdamWModule.pack(state.Parameters, state.Optimizer);
        using var generator = new torch.Generator(0, torch.CPU);
        for (var i = 0; i < steps; i++)
        {
            using var scope = torch.NewDisposeScope();
            var clock = Stopwatch.StartNew();
            void Lap(int phase) { totals[phase] += clock.Elapsed.TotalMilliseconds; clock.Restart(); }
            var logits = Seq2Seq.forward(state.Config, state.Parameters, Dropout.NewFrom(generator), batch.Source, batch.DecoderInput);
            Lap(0);
            var loss = Loss.labelSmoothed(run.LabelSmoothing, state.Config.PadId, logits, batch.Target, FSharpOption<torch.Tensor>.None);
            loss.item<float>();
            Lap(1);
            loss.backward();
            Lap(2);
            FlatAdamWModule.clip(run.ClipNorm, flat);
            Lap(3);
            state.Optimizer = FlatAdamWModule.step(settings, 1e-4, flat, state.Optimizer);
            Lap(4);
            FlatAdamWModule.zeroGrad(flat);
            Lap(5);
        }
        var sum = totals.Sum();
        for (var k = 0; k < names.Length; k++)
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"phase_{names[k]}_ms={totals[k] / steps:F2} ({100 * totals[k] / sum:F0}%)"));
    }

    private static double MatmulPeak()
    {
        using var generator = new torch.Generator(0, torch.CPU);
        using var a = torch.randn(1024, 1024, generator: generator);
        using var b = torch.randn(1024, 1024, generator: generator);
        for (var i = 0; i < 3; i++) torch.matmul(a, b).Dispose();
        var clock = Stopwatch.StartNew();
        var n = 0;
        while (clock.Elapsed.TotalSeconds < 2) { torch.matmul(a, b).Dispose(); n++; }
        return 2.0 * 1024 * 1024 * 1024 * n / clock.Elapsed.TotalSeconds / 1e9;
    }
}
