using System.Globalization;
using Masking.Learned;
using Masking.Model;
using TorchSharp;

namespace Masking.Experiments.Training;

/// <summary>
/// The supervised span scorer: trained to point at the answer span of (context, answer) pairs without the
/// question, batches of 16, early stopping on dev span F1 (the best checkpoint is the scorer).
/// </summary>
internal static class SupervisedScorerTraining
{
    private const int BatchSize = 16;

    public static Dictionary<string, object> Run(LearnPolicyOptions o, RunDirectory dir, StageEnvironment env, Scorer fresh, List<Located> train, List<Located> dev)
    {
        var resumed = ScorerResume.From(dir, env, fresh);
        var scorer = resumed.Scorer;
        var progress = resumed.Progress;
        var trainable = SpanScorer.trainable(scorer.Encoder == "lm" && !o.TrainEmbeddings, scorer.Parameters);
        var optimizer = resumed.Optimizer ?? AdamW.init(trainable);
        var settings = AdamW.settingsWith(0.0);
        double best = progress.TryGetValue("best", out var b) ? double.Parse(b, CultureInfo.InvariantCulture) : -1;
        long bestStep = progress.TryGetValue("best_step", out var bs) ? long.Parse(bs, CultureInfo.InvariantCulture) : 0;
        var bad = progress.TryGetValue("bad", out var bd) ? int.Parse(bd, CultureInfo.InvariantCulture) : 0;
        var rng = new Rng(Seeds.derive(o.Seed, 0, -7));
        // The batches of the steps already taken are drawn again (and dropped), so a resumed run sees the same
        // batches as an uninterrupted one.
        for (var i = 0; i < BatchSize * resumed.Step; i++) rng.NextInt(train.Count);
        using var loop = Interruption.Loop();
        for (var step = (int)resumed.Step + 1; step <= o.Steps && bad < o.Patience; step++)
        {
            using (var scope = torch.NewDisposeScope())
            {
                // Dropout's masks come from (seed, step), so a resumed run repeats the same draws.
                using var dropout = new torch.Generator(Seeds.combine(o.Seed, (ulong)step) >> 1, env.Device);
                var batch = Enumerable.Range(0, BatchSize).Select(_ => train[rng.NextInt(train.Count)]).ToList();
                var width = batch.Max(b => b.Tokens.Length);
                var ids = torch.tensor(batch.SelectMany(b => b.Tokens.Concat(Enumerable.Repeat(scorer.Config.PadId, width - b.Tokens.Length))).Select(t => (long)t).ToArray(),
                    [batch.Count, width], torch.int64, env.Device);
                var starts = torch.tensor(batch.Select(b => (long)b.Answer.Start).ToArray(), dtype: torch.int64, device: env.Device);
                var ends = torch.tensor(batch.Select(b => (long)b.Answer.End - 1).ToArray(), dtype: torch.int64, device: env.Device);
                var loss = SpanScorer.supervisedLoss(scorer.Config, scorer.Parameters, Dropout.NewFrom(dropout), ids, starts, ends);
                loss.backward();
                Gradients.clip(1.0, trainable);
                optimizer = AdamW.step(settings, o.LearningRate, trainable, optimizer);
                Gradients.zero(trainable);
                if (step % 10 == 0) dir.AppendMetrics(string.Create(CultureInfo.InvariantCulture, $"{{\"step\":{step},\"loss\":{loss.item<float>():R}}}"));
            }
            var evaluate = step % o.EvalEvery == 0 || step == o.Steps;
            if (evaluate)
            {
                var f1 = SpanF1(scorer, dev, env.Device);
                dir.AppendMetrics(string.Create(CultureInfo.InvariantCulture, $"{{\"step\":{step},\"dev_span_f1\":{f1:R}}}"));
                env.Log.WriteLine($"learn-policy: step {step}/{o.Steps} dev span F1 {f1:F4}");
                if (f1 > best)
                {
                    best = f1;
                    bestStep = step;
                    bad = 0;
                    scorer.Save(Path.Combine(dir.Path, Scorer.FileName), new Dictionary<string, string> { ["step"] = step.ToString(CultureInfo.InvariantCulture) });
                }
                else bad++;
            }
            FaultInjection.StepDone(step);
            var interrupted = Interruption.Requested && step < o.Steps && bad < o.Patience;
            if (!evaluate && !interrupted) continue;
            scorer.Save(dir.LastCheckpoint, new Dictionary<string, string>
            {
                ["step"] = step.ToString(CultureInfo.InvariantCulture), ["best"] = best.ToString("R", CultureInfo.InvariantCulture),
                ["best_step"] = bestStep.ToString(CultureInfo.InvariantCulture), ["bad"] = bad.ToString(CultureInfo.InvariantCulture),
            }, optimizer);
            FaultInjection.CheckpointWritten(step);
            if (interrupted) throw new RunInterrupted(step);
        }
        var (randomSpan, randomEntity) = SpanBaselines.Of(dev);
        return new Dictionary<string, object>
        {
            ["kind"] = "supervised", ["task"] = o.Task, ["best_step"] = bestStep, ["dev_span_f1"] = best,
            ["dev_random_span_f1"] = randomSpan, ["dev_random_entity_span_f1"] = randomEntity,
        };
    }

    /// <summary>Mean span F1 of the scorer's best span (up to 10 tokens) against each context's answer.</summary>
    public static double SpanF1(Scorer scorer, List<Located> located, torch.Device device)
    {
        if (located.Count == 0) return 0;
        using var _ = torch.no_grad();
        var total = 0.0;
        foreach (var d in located)
        {
            using var scope = torch.NewDisposeScope();
            var (s, e, _) = SpanScorer.logits(scorer.Config, scorer.Parameters, Dropout.Off, Scorer.Ids(d.Tokens, device));
            var eligible = d.Tokens.Select((t, i) => i > 0 && i < d.Tokens.Length - 1).ToArray();
            var best = SpanScorer.bestSpan(s.squeeze(0).cpu().data<float>().ToArray(), e.squeeze(0).cpu().data<float>().ToArray(), eligible, 10);
            total += best is null ? 0 : SpanScorer.spanF1(best.Value, d.Answer);
        }
        return total / located.Count;
    }
}
