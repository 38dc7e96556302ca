using System.Globalization;
using System.Text.Json;
using Masking.Experiments.Cli;
using Masking.Learned;
using Masking.Model;
using Masking.Tasks;
using Masking.Tokenizers;
using Masking.World;
using Microsoft.FSharp.Collections;
using Microsoft.FSharp.Core;
using TorchSharp;

namespace Masking.Experiments.Training;

/// <summary>A trained span scorer: its configuration, parameters and kind (supervised or meta).</summary>
/// <remarks><see cref="Encoder"/> is where the encoder came from: scratch, or lm (a language model's encoder).</remarks>
public sealed record Scorer(ModelConfig Config, FSharpMap<string, torch.Tensor> Parameters, string Kind, string Encoder = "scratch")
{
    public const string FileName = "scorer.safetensors";

    public void Save(string path, IReadOnlyDictionary<string, string> meta, AdamWState? optimizer = null)
    {
        var tensors = Parameters.Select(kv => Tuple.Create("param/" + kv.Key, kv.Value)).ToList();
        if (optimizer is not null)
        {
            tensors.AddRange(optimizer.M.Select(kv => Tuple.Create("adam.m/" + kv.Key, kv.Value)));
            tensors.AddRange(optimizer.V.Select(kv => Tuple.Create("adam.v/" + kv.Key, kv.Value)));
        }
        var all = new Dictionary<string, string>(meta) { ["scorer_config"] = JsonSerializer.Serialize(Config), ["kind"] = Kind, ["encoder"] = Encoder };
        if (optimizer is not null) all["adam_step"] = optimizer.Step.ToString(CultureInfo.InvariantCulture);
        Checkpoint.save(path, ListModule.OfSeq(tensors), MapModule.OfSeq(all.Select(kv => Tuple.Create(kv.Key, kv.Value))));
    }

    public static (Scorer Scorer, AdamWState? Optimizer, IReadOnlyDictionary<string, string> Meta) Load(string path, torch.Device device)
    {
        var loaded = Checkpoint.load(path, device);
        if (loaded.IsError) throw new CliError(loaded.ErrorValue);
        var (tensors, meta) = loaded.ResultValue;
        if (!meta.ContainsKey("scorer_config")) throw new CliError($"{path}:0: expected a span scorer checkpoint");
        var config = JsonSerializer.Deserialize<ModelConfig>(meta["scorer_config"])!;
        var names = tensors.Keys.Where(k => k.StartsWith("param/", StringComparison.Ordinal)).Select(k => k["param/".Length..]).ToList();
        var p = MapModule.OfSeq(names.Select(n => Tuple.Create(n, tensors["param/" + n].requires_grad_(true))));
        // Frozen parameters (the language model's embeddings) have no moments.
        var moving = names.Where(n => tensors.ContainsKey("adam.m/" + n)).ToList();
        AdamWState? optimizer = meta.ContainsKey("adam_step")
            ? new AdamWState(long.Parse(meta["adam_step"], CultureInfo.InvariantCulture),
                MapModule.OfSeq(moving.Select(n => Tuple.Create(n, tensors["adam.m/" + n]))),
                MapModule.OfSeq(moving.Select(n => Tuple.Create(n, tensors["adam.v/" + n]))))
            : null;
        return (new Scorer(config, p, meta["kind"], meta.TryFind("encoder")?.Value ?? "scratch"), optimizer, meta.ToDictionary(kv => kv.Key, kv => kv.Value));
    }

    /// <summary>Candidate spans snapped to whole words and annotated units (<see cref="ScoredSpanModule.snapToUnits"/>):
    /// what the <c>scored</c> policy masks from, so that a learned policy never masks part of a word or an entity.</summary>
    public Masking.Policies.ScoredSpan[] ScoreUnits(int[] tokens, bool[] wordStarts, Masking.Policies.Annotation[] annotations,
        Masking.SpecialTokens specials, torch.Device device) =>
        Masking.Policies.ScoredSpanModule.snapToUnits(wordStarts, annotations, Score(tokens, specials, device));

    /// <summary>Candidate spans with scores for an example: supervised scorers give their best spans
    /// (log p_start + log p_end, up to 10 tokens); meta-learned ones score every token by its masking logit.</summary>
    public Masking.Policies.ScoredSpan[] Score(int[] tokens, Masking.SpecialTokens specials, torch.Device device)
    {
        using var _ = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var ids = torch.tensor(tokens.Select(t => (long)t).ToArray(), dtype: torch.int64, device: device).unsqueeze(0);
        var (start, end, token) = SpanScorer.logits(Config, Parameters, false, ids);
        var eligible = tokens.Select(t => !specials.IsSpecialId(t)).ToArray();
        if (Kind == "meta")
        {
            var logits = token.squeeze(0).cpu().data<float>().ToArray();
            return Enumerable.Range(0, tokens.Length).Where(i => eligible[i])
                .Select(i => new Masking.Policies.ScoredSpan(new Span(i, i + 1), logits[i])).ToArray();
        }
        return SpanScorer.spans(start.squeeze(0).cpu().data<float>().ToArray(), end.squeeze(0).cpu().data<float>().ToArray(), eligible, 10, 20);
    }
}

/// <summary>
/// <c>masking learn-policy --kind supervised|meta --task TASK --from LM_RUN --out DIR</c>: trains the span
/// scorer from (context, answer) pairs without the question (supervised, early stopping on dev span F1) or
/// by the bilevel meta-objective on (context, question, answer) (meta). Contexts come from the task's reader,
/// or, for closed-book tasks, from the intermediate pre-training corpus (the first passage holding the answer).
/// </summary>
public static class PolicyLearning
{
    public sealed record Options(string Kind, string Task, string From, string Corpus, int Steps, double LearningRate,
        double InnerLearningRate, double Budget, string Gradient, bool TrainAlong, string? Init, int EvalEvery, int Patience, ulong Seed,
        string Encoder = "lm", bool TrainEmbeddings = false, int InnerSteps = 1);

    private sealed record Located(int[] Tokens, Span Answer, TaskExample Example);

    public static int Run(Options o, RunDirectory dir, StageEnvironment env)
    {
        var config = new RunConfig
        {
            Stage = "learn-policy-" + o.Kind, From = Path.GetFullPath(o.From), Task = o.Task, Corpus = o.Corpus, Steps = o.Steps,
            LearningRate = o.LearningRate, Seed = o.Seed, EvalEvery = o.EvalEvery, Patience = o.Patience,
            Policy = $"inner_lr={o.InnerLearningRate.ToString(CultureInfo.InvariantCulture)} inner_steps={o.InnerSteps} budget={o.Budget.ToString(CultureInfo.InvariantCulture)} gradient={o.Gradient} train_along={o.TrainAlong} init={o.Init} encoder={o.Encoder} train_embeddings={o.TrainEmbeddings}",
        };
        dir.Open(config);
        if (File.Exists(dir.FinalFile))
        {
            env.Log.WriteLine($"already finished: {File.ReadAllText(dir.FinalFile).Trim()} ({dir.Path})");
            return 0;
        }
        var vocab = Stages.StartFrom(o.From, dir).Tokenizer;
        var task = Registry.find(o.Task);
        if (task.IsError) throw new CliError(task.ErrorValue);
        // Contexts must fit the language model's positions (and the small scorer's 256).
        var positions = Math.Min(256, HuggingFace.BartConfigFile.Read(Path.Combine(dir.Path, HuggingFace.ModelDirectory.ConfigFile)).Config.MaxPositions);
        var longest = Math.Min(250, positions - 2);
        var trainContexts = Locate(task.ResultValue, Split.Train, vocab, o.Corpus, env, longest);
        var devContexts = Locate(task.ResultValue, Split.Dev, vocab, o.Corpus, env, longest);
        var (train, dev) = (trainContexts.Found, devContexts.Found);
        if (train.Count == 0) throw new CliError($"learn-policy: no training context of {o.Task} contains its answer");
        Log("train", trainContexts, env.Log);
        Log("dev", devContexts, env.Log);

        Scorer scorer;
        var seed = (long)(o.Seed & 0x7FFFFFFF);
        if (o.Init is not null)
        {
            var init = Scorer.Load(Path.Combine(o.Init, Scorer.FileName), env.Device).Scorer;
            scorer = init.Kind == "supervised" && o.Kind == "meta"
                ? init with { Kind = o.Kind, Parameters = SpanScorer.tokenHeadFromSpanHeads(init.Parameters) }
                : init with { Kind = o.Kind };
        }
        else if (o.Encoder == "lm")
        {
            var lm = ModelState.FromModelDirectory(o.From, env.Device);
            var c = SpanScorer.configFrom(lm.Config);
            scorer = new Scorer(c, SpanScorer.initFrom(lm.Parameters, seed, env.Device, c), o.Kind, "lm");
        }
        else
        {
            var c = SpanScorer.config(vocab.Specials.VocabSize, vocab.Specials.Pad, vocab.Specials.Eos);
            scorer = new Scorer(c, SpanScorer.init(c, seed, env.Device), o.Kind);
        }
        var result = o.Kind == "supervised" ? Supervised(o, dir, env, scorer, train, dev) : Meta(o, dir, env, scorer, vocab, train, dev, Math.Min(120, positions - 2));
        Record("train", trainContexts, result);
        Record("dev", devContexts, result);
        if (o.Kind == "supervised")
        {
            // Early stopping chose the checkpoint on dev; the held-out test contexts give the unbiased comparison.
            var testContexts = Locate(task.ResultValue, Split.Test, vocab, o.Corpus, env, longest);
            var test = testContexts.Found;
            Log("test", testContexts, env.Log);
            Record("test", testContexts, result);
            var best = Scorer.Load(Path.Combine(dir.Path, Scorer.FileName), env.Device).Scorer;
            var (randomSpan, randomEntity) = Baselines(test);
            result["test_span_f1"] = SpanF1(best, test, env.Device);
            result["test_random_span_f1"] = randomSpan;
            result["test_random_entity_span_f1"] = randomEntity;
        }
        RunDirectory.WriteAtomically(dir.FinalFile, JsonSerializer.Serialize(result) + "\n");
        env.Log.WriteLine($"learn-policy: {JsonSerializer.Serialize(result)}; {dir.Path}");
        return 0;
    }

    /// <summary>What the context search found for one split: the located contexts, how many examples there were,
    /// and, where the corpus knows which passage states which fact, how often the answer-string search would have
    /// picked a passage about the question's subject.</summary>
    private sealed record Contexts(List<Located> Found, int Examples, double? AnswerSearchStatesFact)
    {
        public double FoundRate => Examples == 0 ? 0 : (double)Found.Count / Examples;
    }

    /// <summary>
    /// Contexts (tokenised with &lt;s&gt; … &lt;/s&gt;) with the token span of the answer's first occurrence. A
    /// task with its own context uses it. A closed-book task of the generated world takes a passage about the
    /// question's subject, which states the fact asked about; a real closed-book task takes the first corpus
    /// passage that holds the answer string (which may state another fact with the same answer).
    /// </summary>
    private static Contexts Locate(TaskInfo task, Split split, ITokenizer vocab, string corpus, StageEnvironment env, int longest)
    {
        var passages = new Lazy<IReadOnlyList<string>>(() => Corpora.Texts(corpus, env.DataRoot));
        var world = Corpora.IsWorld(corpus) ? Registry.defaultWorld.Value : null;
        // A world task's examples come with their subjects; any other task's from its reader.
        var examples = (world is null ? null : WorldTasks.examplesAbout(task.Name, world, split)?.Value)
            ?.Select(x => (Example: x.Item1, Subject: (int?)x.Item2)).ToList();
        if (examples is null)
        {
            var loaded = task.Load.Invoke(task.NeedsDataRoot ? DataRoot.Resolve(env.DataRoot) : "").Invoke(split);
            if (loaded.IsError) throw new CliError(loaded.ErrorValue);
            examples = loaded.ResultValue.Select(e => (Example: e, Subject: (int?)null)).ToList();
        }
        var result = new List<Located>();
        int searched = 0, searchStatesFact = 0;
        foreach (var (e, subject) in examples)
        {
            var answer = e.Targets.Head;
            string? AnswerSearch() => passages.Value.FirstOrDefault(p => p.Contains(answer, StringComparison.OrdinalIgnoreCase));
            string? context = e.Context?.Value;
            if (context is null && subject is { } s)
            {
                var about = WorldTasks.passagesAbout(world!, s);
                context = about.Select(p => p.Text).FirstOrDefault(t => t.Contains(answer, StringComparison.OrdinalIgnoreCase));
                // The search real tasks rely on, measured against what the world knows.
                var searchedText = AnswerSearch();
                searched++;
                if (searchedText is not null && about.Any(p => p.Text == searchedText)) searchStatesFact++;
            }
            context ??= AnswerSearch();
            if (context is null) continue;
            var at = context.IndexOf(answer, StringComparison.OrdinalIgnoreCase);
            if (at < 0) continue;
            var encoded = vocab.Encode(context);
            var spans = Masking.Text.Sentences.toTokenSpans(encoded.Offsets, [new Span(at, at + answer.Length)]);
            if (spans.Length == 0 || encoded.Ids.Length > longest) continue;
            var tokens = new[] { vocab.Specials.Bos }.Concat(encoded.Ids).Append(vocab.Specials.Eos).ToArray();
            result.Add(new Located(tokens, new Span(spans[0].Start + 1, spans[0].End + 1), e));
        }
        return new Contexts(result, examples.Count, searched == 0 ? null : (double)searchStatesFact / searched);
    }

    /// <summary>One line on stderr for a split's contexts.</summary>
    private static void Log(string splitName, Contexts c, TextWriter log)
    {
        var line = $"learn-policy: {splitName}: {c.Found.Count} of {c.Examples} examples have a context holding the answer ({100 * c.FoundRate:F1}%)";
        if (c.AnswerSearchStatesFact is { } s)
            line += $"; contexts come from the fact's own passages (the answer-string search would pick a passage about the question's subject for {100 * s:F1}%)";
        log.WriteLine(line);
    }

    /// <summary>The final.json fields for a split's contexts.</summary>
    private static void Record(string splitName, Contexts c, Dictionary<string, object> result)
    {
        result[$"{splitName}_contexts"] = c.Found.Count;
        result[$"{splitName}_context_found_rate"] = Math.Round(c.FoundRate, 6);
        if (c.AnswerSearchStatesFact is { } rate) result[$"{splitName}_answer_search_states_fact"] = Math.Round(rate, 6);
    }

    private static torch.Tensor Ids(int[] tokens, torch.Device device) =>
        torch.tensor(tokens.Select(t => (long)t).ToArray(), dtype: torch.int64, device: device).unsqueeze(0);

    private static double SpanF1(Scorer scorer, List<Located> dev, torch.Device device)
    {
        if (dev.Count == 0) return 0;
        using var _ = torch.no_grad();
        var total = 0.0;
        foreach (var d in dev)
        {
            using var scope = torch.NewDisposeScope();
            var (s, e, _) = SpanScorer.logits(scorer.Config, scorer.Parameters, false, Ids(d.Tokens, device));
            var eligible = d.Tokens.Select((t, i) => i > 0 && i < d.Tokens.Length - 1).ToArray();
            var best = SpanScorer.bestSpan(s.squeeze(0).cpu().data<float>().ToArray(), e.squeeze(0).cpu().data<float>().ToArray(), eligible, 10);
            total += best is null ? 0 : SpanScorer.spanF1(best.Value, d.Answer);
        }
        return total / dev.Count;
    }

    private static Dictionary<string, object> Supervised(Options o, RunDirectory dir, StageEnvironment env, Scorer scorer, List<Located> train, List<Located> dev)
    {
        var (resumed, progress) = Resume(dir, env, scorer);
        scorer = resumed.Scorer;
        var trainable = SpanScorer.trainable(scorer.Encoder == "lm" && !o.TrainEmbeddings, scorer.Parameters);
        var optimizer = resumed.Optimizer ?? AdamW.init(trainable);
        var settings = AdamW.settingsWith(0.0);
        double best = progress.TryGetValue("best", out var b) ? double.Parse(b, CultureInfo.InvariantCulture) : -1;
        long bestStep = progress.TryGetValue("best_step", out var bs) ? long.Parse(bs, CultureInfo.InvariantCulture) : 0;
        var bad = progress.TryGetValue("bad", out var bd) ? int.Parse(bd, CultureInfo.InvariantCulture) : 0;
        var rng = new Rng(Seeds.derive(o.Seed, 0, -7));
        // The batches of the steps already taken are drawn again (and dropped), so a resumed run sees the same
        // batches as an uninterrupted one.
        for (var i = 0; i < 16 * resumed.Step; i++) rng.NextInt(train.Count);
        for (var step = (int)resumed.Step + 1; step <= o.Steps && bad < o.Patience; step++)
        {
            using (var scope = torch.NewDisposeScope())
            {
                torch.manual_seed((long)(Seeds.combine(o.Seed, (ulong)step) >> 1));
                // A batch of 16 contexts, padded.
                var batch = Enumerable.Range(0, 16).Select(_ => train[rng.NextInt(train.Count)]).ToList();
                var width = batch.Max(b => b.Tokens.Length);
                var ids = torch.tensor(batch.SelectMany(b => b.Tokens.Concat(Enumerable.Repeat(scorer.Config.PadId, width - b.Tokens.Length))).Select(t => (long)t).ToArray(),
                    [batch.Count, width], torch.int64, env.Device);
                var starts = torch.tensor(batch.Select(b => (long)b.Answer.Start).ToArray(), dtype: torch.int64, device: env.Device);
                var ends = torch.tensor(batch.Select(b => (long)b.Answer.End - 1).ToArray(), dtype: torch.int64, device: env.Device);
                var loss = SpanScorer.supervisedLoss(scorer.Config, scorer.Parameters, true, ids, starts, ends);
                loss.backward();
                Gradients.clip(1.0, trainable);
                optimizer = AdamW.step(settings, o.LearningRate, trainable, optimizer);
                Gradients.zero(trainable);
                if (step % 10 == 0) dir.AppendMetrics(string.Create(CultureInfo.InvariantCulture, $"{{\"step\":{step},\"loss\":{loss.item<float>():R}}}"));
            }
            if (step % o.EvalEvery != 0 && step != o.Steps) continue;
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
            scorer.Save(dir.LastCheckpoint, new Dictionary<string, string>
            {
                ["step"] = step.ToString(CultureInfo.InvariantCulture), ["best"] = best.ToString("R", CultureInfo.InvariantCulture),
                ["best_step"] = bestStep.ToString(CultureInfo.InvariantCulture), ["bad"] = bad.ToString(CultureInfo.InvariantCulture),
            }, optimizer);
            FaultInjection.CheckpointWritten(step);
        }
        var (randomSpan, randomEntity) = Baselines(dev);
        return new Dictionary<string, object>
        {
            ["kind"] = "supervised", ["task"] = o.Task, ["best_step"] = bestStep, ["dev_span_f1"] = best,
            ["dev_random_span_f1"] = randomSpan, ["dev_random_entity_span_f1"] = randomEntity,
        };
    }

    /// <summary>
    /// Expected dev span F1 of a uniformly random span (start anywhere, 1–10 tokens) and of a uniformly random
    /// salient span (entity, date or number by rule: what SSM picks from), against the gold answer spans.
    /// </summary>
    private static (double RandomSpan, double RandomEntity) Baselines(List<Located> dev)
    {
        if (dev.Count == 0) return (0, 0);
        double spanTotal = 0;
        foreach (var d in dev)
        {
            var n = d.Tokens.Length - 2;
            double sum = 0;
            var count = 0;
            for (var start = 1; start <= n; start++)
                for (var length = 1; length <= 10 && start + length <= n + 1; length++)
                {
                    sum += SpanScorer.spanF1(new Span(start, start + length), d.Answer);
                    count++;
                }
            spanTotal += count == 0 ? 0 : sum / count;
        }
        return (spanTotal / dev.Count, RandomEntity(dev));
    }

    private static double RandomEntity(List<Located> dev)
    {
        double total = 0;
        foreach (var d in dev)
        {
            var context = d.Example.Context?.Value;
            if (context is null) continue;
            var entities = Masking.Text.SalientSpans.find(context);
            if (entities.Length == 0) continue;
            // Entity character spans → the answer's character span, compared as character-overlap F1.
            var at = context.IndexOf(d.Example.Targets.Head, StringComparison.OrdinalIgnoreCase);
            var gold = new Span(at, at + d.Example.Targets.Head.Length);
            total += entities.Average(e => SpanScorer.spanF1(e.Item1, gold));
        }
        return total / dev.Count;
    }

    private static Dictionary<string, object> Meta(Options o, RunDirectory dir, StageEnvironment env, Scorer scorer, ITokenizer vocab, List<Located> train, List<Located> dev,
        int longestQuestion)
    {
        var (resumed, _) = Resume(dir, env, scorer);
        scorer = resumed.Scorer;
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
        double recent = 0;
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
            // θ is reset for every meta-step (MAML-style) unless it trains alongside the policy.
            if (o.TrainAlong)
                MetaObjective.trainAlong(lm.Config, theta, scorer.Config, scorer.Parameters, vocab.Specials, example, o.InnerLearningRate, o.InnerSteps, o.Budget, env.Device);
            if (step % 10 == 0 || step == o.Steps)
            {
                // θ first: a checkpoint of φ at step s promises θ at step s beside it.
                if (o.TrainAlong) lm.Save(alongPath, new Dictionary<string, string> { ["step"] = step.ToString(CultureInfo.InvariantCulture) }, withOptimizer: false);
                scorer.Save(dir.LastCheckpoint, new Dictionary<string, string> { ["step"] = step.ToString(CultureInfo.InvariantCulture) }, optimizer);
                FaultInjection.CheckpointWritten(step);
            }
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

    private sealed record Resumed(Scorer Scorer, AdamWState? Optimizer, long Step);

    /// <summary>The scorer, its optimiser state and the step of the last progress checkpoint of an interrupted run,
    /// with the checkpoint's other fields; or the fresh scorer at step 0.</summary>
    private static (Resumed State, IReadOnlyDictionary<string, string> Progress) Resume(RunDirectory dir, StageEnvironment env, Scorer fresh)
    {
        if (!File.Exists(dir.LastCheckpoint)) return (new Resumed(fresh, null, 0), new Dictionary<string, string>());
        var (scorer, optimizer, meta) = Scorer.Load(dir.LastCheckpoint, env.Device);
        var step = long.Parse(meta["step"], CultureInfo.InvariantCulture);
        env.Log.WriteLine($"learn-policy: resuming from step {step} ({dir.LastCheckpoint})");
        dir.TruncateMetricsAfter(step);
        return (new Resumed(scorer with { Kind = fresh.Kind }, optimizer, step), meta);
    }

    private static int[] Wrap(int[] ids, ITokenizer vocab, int longest) =>
        new[] { vocab.Specials.Bos }.Concat(ids.Take(longest)).Append(vocab.Specials.Eos).ToArray();
}
