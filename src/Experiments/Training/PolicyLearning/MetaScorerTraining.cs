using System.Globalization;
using Masking.Learned;
using Masking.Model;
using Microsoft.FSharp.Core;
using TorchSharp;

namespace Masking.Experiments.Training;

/// <summary>
/// The meta-learned scorer: φ trained by the bilevel objective on (context, question, answer), one example a
/// meta-step, with θ (the language model) reset every meta-step (MAML-style) unless it trains alongside.
/// </summary>
internal static class MetaScorerTraining
{
    public static Dictionary<string, object> Run(LearnPolicyOptions o, RunDirectory dir, StageEnvironment env, Scorer fresh, ITokenizer vocab,
        List<Located> train, List<Located> dev, int longestQuestion)
    {
        var resumed = ScorerResume.From(dir, env, fresh);
        var scorer = resumed.Scorer;
        // θ trained alongside the policy is part of the state to resume; a reset θ is the language model's.
        var alongPath = Path.Combine(dir.Path, "checkpoints", "lm-along.safetensors");
        var lm = o.TrainAlong && resumed.Step > 0
            ? ModelState.Load(alongPath, env.Device, withOptimizer: false).State
            : ModelState.FromModelDirectory(o.From, env.Device);
        var theta = lm.Parameters;
        var examples = train.Select(t => new MetaExample(t.Tokens, Wrap(vocab.Encode(t.Example.Source).Ids, vocab, longestQuestion), vocab.Encode(t.Example.Targets.Head).Ids)).ToList();
        var trainable = SpanScorer.trainable(scorer.Encoder == "lm" && !o.TrainEmbeddings, scorer.Parameters);
        var optimizer = resumed.Optimizer ?? AdamW.init(trainable);
        var settings = AdamW.settingsWith(0.0);
        var gradient = o.Gradient == "first-order" ? MetaGradient.FirstOrderTask : MetaGradient.Exact;
        var rng = new Rng(Seeds.derive(o.Seed, 0, -11));
        for (var i = 0; i < resumed.Step; i++) rng.NextInt(examples.Count);
        // The loss sum since the last log line, kept in the checkpoint (older checkpoints were written at
        // multiples of 10 or at the end, where it is 0).
        var recent = resumed.Progress.TryGetValue("loss_sum", out var sum) ? double.Parse(sum, CultureInfo.InvariantCulture) : 0;
        using var loop = Interruption.Loop();
        for (var step = (int)resumed.Step + 1; step <= o.Steps; step++)
        {
            using var scope = torch.NewDisposeScope();
            var example = examples[rng.NextInt(examples.Count)];
            var loss = MetaObjective.metaLoss(lm.Config, theta, scorer.Config, scorer.Parameters, vocab.Specials, example, o.InnerLearningRate, o.InnerSteps, o.Budget, gradient, env.Device);
            var grads = MetaObjective.gradient(loss, trainable);
            optimizer = AdamW.stepWith(settings, o.LearningRate, trainable, FuncConvert.FromFunc<string, torch.Tensor>(n => grads[n]), optimizer);
            recent += loss.item<float>();
            if (step % 10 == 0)
            {
                dir.AppendMetrics(string.Create(CultureInfo.InvariantCulture, $"{{\"step\":{step},\"meta_loss\":{recent / 10:R}}}"));
                env.Log.WriteLine($"learn-policy: meta step {step}/{o.Steps} outer loss {recent / 10:F4}");
                recent = 0;
            }
            if (o.TrainAlong)
                MetaObjective.trainAlong(lm.Config, theta, scorer.Config, scorer.Parameters, vocab.Specials, example, o.InnerLearningRate, o.InnerSteps, o.Budget, env.Device);
            FaultInjection.StepDone(step);
            var interrupted = Interruption.Requested && step < o.Steps;
            if (step % 10 == 0 || step == o.Steps || interrupted)
            {
                // θ first: a checkpoint of φ at step s promises θ at step s beside it.
                if (o.TrainAlong) lm.Save(alongPath, new Dictionary<string, string> { ["step"] = step.ToString(CultureInfo.InvariantCulture) }, withOptimizer: false);
                scorer.Save(dir.LastCheckpoint, new Dictionary<string, string>
                {
                    ["step"] = step.ToString(CultureInfo.InvariantCulture), ["loss_sum"] = recent.ToString("R", CultureInfo.InvariantCulture),
                }, optimizer);
                FaultInjection.CheckpointWritten(step);
            }
            if (interrupted) throw new RunInterrupted(step);
        }
        scorer.Save(Path.Combine(dir.Path, Scorer.FileName), new Dictionary<string, string> { ["step"] = o.Steps.ToString(CultureInfo.InvariantCulture) });
        return new Dictionary<string, object> { ["kind"] = "meta", ["task"] = o.Task, ["steps"] = o.Steps, ["dev_answer_recall"] = DevAnswerRecall(scorer, dev, o.Budget, vocab, env.Device) };
    }

    /// <summary>The share of dev answer tokens among the tokens the policy would mask (its top fraction).</summary>
    private static double DevAnswerRecall(Scorer scorer, List<Located> dev, double budget, ITokenizer vocab, torch.Device device)
    {
        if (dev.Count == 0) return 0;
        double found = 0, total = 0;
        foreach (var d in dev)
        {
            var scores = scorer.Score(d.Tokens, vocab.Specials, device);
            var k = Masking.Policies.Budget.count(budget, scores.Length);
            var chosen = scores.OrderByDescending(s => s.Score).ThenBy(s => s.Span.Start).Take(k).Select(s => s.Span.Start).ToHashSet();
            for (var i = d.Answer.Start; i < d.Answer.End; i++) { total++; if (chosen.Contains(i)) found++; }
        }
        return found / Math.Max(1, total);
    }

    private static int[] Wrap(int[] ids, ITokenizer vocab, int longest) =>
        new[] { vocab.Specials.Bos }.Concat(ids.Take(longest)).Append(vocab.Specials.Eos).ToArray();
}
