using System.Diagnostics;
using System.Globalization;
using Masking.Model;
using Microsoft.FSharp.Core;
using TorchSharp;

namespace Masking.Experiments.Training;

/// <summary>Training stopped because the loss or the gradient norm stopped being finite.</summary>
public sealed class TrainingDiverged(string message) : Exception(message);

/// <summary>
/// The optimisation loop shared by every stage: one dispose scope per step (memory stays flat), dropout seeded
/// from (run seed, step) so that a resumed run repeats the same draws, AdamW with warm-up and linear decay,
/// gradient clipping, a NaN/Inf guard, periodic checkpoints of everything a resume needs.
/// </summary>
public sealed class Trainer(ModelState state, RunConfig run, RunDirectory dir, IProgressSink progress)
{
    public sealed record StepResult(double Loss, double GradNorm, int TargetTokens);

    /// <summary>Evaluation hook: called after a step; returns true to stop early.</summary>
    public Func<long, bool>? AfterStep { get; init; }

    /// <summary>Extra metadata saved with each checkpoint (early-stopping state).</summary>
    public Func<IReadOnlyDictionary<string, string>>? CheckpointMeta { get; init; }

    // The parameters, gradients and moments in flat buffers: an update is a few kernels, not a few per tensor.
    private readonly FlatAdamW _flat = FlatAdamWModule.pack(state.Parameters, state.Optimizer);
    private readonly AdamWSettings _settings = AdamW.settingsWith(run.WeightDecay);

    public StepResult Step(Batch batch, long step, double lr)
    {
        using var scope = torch.NewDisposeScope();
        // Dropout's masks come from (run seed, step), so a resumed run repeats the same draws.
        using var dropout = new torch.Generator(Seeds.combine(run.Seed, (ulong)step) >> 1, batch.Source.device);
        var logits = Seq2Seq.forward(state.Config, state.Parameters, Dropout.NewFrom(dropout), batch.Source, batch.DecoderInput);
        var loss = Loss.labelSmoothed(run.LabelSmoothing, state.Config.PadId, logits, batch.Target, FSharpOption<torch.Tensor>.None);
        loss.backward();
        var norm = FlatAdamWModule.clip(run.ClipNorm, _flat);
        var value = loss.item<float>();
        if (!double.IsFinite(value) || !double.IsFinite(norm))
            throw new TrainingDiverged($"step {step}: the loss is {value} and the gradient norm {norm}; "
                + (File.Exists(dir.LastCheckpoint) ? $"the last good checkpoint is {dir.LastCheckpoint}" : "no checkpoint was written yet"));
        state.Optimizer = FlatAdamWModule.step(_settings, lr, _flat, state.Optimizer);
        FlatAdamWModule.zeroGrad(_flat);
        return new StepResult(value, norm, batch.TargetTokens);
    }

    // The loss average in progress and the last one logged: kept in every checkpoint, so that a run resumed
    // between two log lines, or after its last step, logs and reports what an uninterrupted run would.
    private double _lastLoss = double.NaN, _sinceLog;
    private int _logged;

    /// <summary>Runs steps [start, Steps) after a resume from a checkpoint with <paramref name="resumedMeta"/>
    /// (empty for a fresh run): returns the last logged loss.</summary>
    public double Run(long start, Func<long, Batch> batchFor, IReadOnlyDictionary<string, string>? resumedMeta = null)
    {
        var total = run.Steps;
        var warmup = (long)Math.Round(run.WarmupFraction * total);
        var clock = Stopwatch.StartNew();
        long tokens = 0;
        if (start > 0 && resumedMeta is not null)
        {
            if (resumedMeta.TryGetValue("last_loss", out var l)) _lastLoss = double.Parse(l, CultureInfo.InvariantCulture);
            if (resumedMeta.TryGetValue("loss_sum", out var sum)) _sinceLog = double.Parse(sum, CultureInfo.InvariantCulture);
            if (resumedMeta.TryGetValue("loss_count", out var n)) _logged = int.Parse(n, CultureInfo.InvariantCulture);
        }
        using var loop = Interruption.Loop();
        for (var step = start; step < total; step++)
        {
            var lr = Schedule.linear(run.LearningRate, warmup, total, step);
            StepResult result;
            using (var batch = batchFor(step)) result = Step(batch, step, lr);
            tokens += result.TargetTokens;
            _sinceLog += result.Loss;
            _logged++;
            var done = step + 1;
            var rate = tokens / Math.Max(clock.Elapsed.TotalSeconds, 1e-6);
            progress.Report(done, total, result.Loss, rate);
            if (done % run.LogEvery == 0 || done == total)
            {
                _lastLoss = _sinceLog / _logged;
                dir.AppendMetrics(string.Create(CultureInfo.InvariantCulture,
                    $"{{\"step\":{done},\"loss\":{_lastLoss:R},\"lr\":{lr:R},\"grad_norm\":{result.GradNorm:R},\"tokens_per_second\":{rate:F0}}}"));
                _sinceLog = 0;
                _logged = 0;
            }
            var stop = AfterStep?.Invoke(done) ?? false;
            FaultInjection.StepDone(done);
            var interrupted = Interruption.Requested && done < total && !stop;
            if (done % run.CheckpointEvery == 0 || done == total || stop || interrupted) SaveLast(done);
            if (interrupted) throw new RunInterrupted(done);
            if (stop) break;
        }
        return _lastLoss;
    }

    public void SaveLast(long step)
    {
        var meta = new Dictionary<string, string>
        {
            ["step"] = step.ToString(CultureInfo.InvariantCulture), ["stage"] = run.Stage,
            ["last_loss"] = _lastLoss.ToString("R", CultureInfo.InvariantCulture),
            ["loss_sum"] = _sinceLog.ToString("R", CultureInfo.InvariantCulture),
            ["loss_count"] = _logged.ToString(CultureInfo.InvariantCulture),
        };
        if (CheckpointMeta is not null) foreach (var kv in CheckpointMeta()) meta[kv.Key] = kv.Value;
        state.Save(dir.LastCheckpoint, meta, withOptimizer: true);
        FaultInjection.CheckpointWritten(step);
    }
}
