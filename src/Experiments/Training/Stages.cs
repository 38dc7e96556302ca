using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Masking.Experiments.Cli;
using Masking.Metrics;
using Masking.Model;
using Masking.Policies;
using Masking.Tasks;
using Masking.Tokenizers;
using TorchSharp;

namespace Masking.Experiments.Training;

/// <summary>Where a stage runs and how it reports.</summary>
public sealed record StageEnvironment(torch.Device Device, TextWriter Log, bool Interactive, string? DataRoot);

/// <summary>
/// The three stages of the protocol and evaluation: general pre-training (random masking, full-sequence
/// target), intermediate pre-training with one policy (same corpus, steps and seed for every policy),
/// task fine-tuning with early stopping on the dev metric, and evaluation with beam search.
/// </summary>
public static class Stages
{
    private static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    // ---- denoising stages -------------------------------------------------------------------------------

    public static int Pretrain(RunConfig run, RunDirectory dir, StageEnvironment env)
    {
        var resumed = dir.Open(run);
        ByteBpeTokenizer tokenizer;
        if (File.Exists(dir.VocabFile)) tokenizer = LoadVocab(dir.VocabFile);
        else
        {
            // The vocabulary covers both worlds' text (or the given corpus), so the target world's names
            // are not strangers to the tokenizer; it carries no facts.
            var texts = run.Corpus == "world-background"
                ? Corpora.Texts("world-background").Concat(Corpora.Texts("world-target"))
                : Corpora.Texts(run.Corpus, env.DataRoot);
            tokenizer = new ByteBpeTokenizer(ByteBpeTrainer.train(texts, run.VocabSize, 100, 2));
            ByteBpeModelModule.save(dir.VocabFile, tokenizer.Model);
        }
        var preset = ModelConfigModule.tryPreset(run.Preset)?.Value
            ?? throw new CliError($"--preset: unknown preset '{run.Preset}'; known: {string.Join(", ", ModelConfigModule.presets.Select(p => p.Item1))}");
        var vocab = (ITokenizer)tokenizer;
        var config = ModelConfigModule.forVocabulary(preset, vocab.Specials.VocabSize, vocab.Specials.Pad, vocab.Specials.Eos,
            Math.Max(run.MaxSourceLength, run.MaxTargetLength));
        if (run.PreNorm || run.Dropout is not null)
            config = new ModelConfig(config.VocabSize, config.DModel, config.EncoderLayers, config.DecoderLayers, config.Heads, config.FfnDim,
                config.MaxPositions, run.Dropout ?? config.Dropout, config.AttentionDropout, config.ActivationDropout, run.PreNorm || config.PreNorm,
                config.ScaleEmbedding, config.PadId, config.DecoderStartId, config.EosId);
        HuggingFace.ModelDirectory.WriteConfig(dir.Path, config, vocab.Specials.Bos);
        var state = resumed && File.Exists(dir.LastCheckpoint)
            ? ModelState.Load(dir.LastCheckpoint, env.Device, withOptimizer: true).State
            : ModelState.Fresh(config, (long)(run.Seed & 0x7FFFFFFF), env.Device);
        return Denoise(run, dir, env, state, new HuggingFace.ModelTokenizer(tokenizer, false), resumed);
    }

    public static int Intermediate(RunConfig run, RunDirectory dir, StageEnvironment env)
    {
        var from = run.From ?? throw new CliError("intermediate: expected --from DIR (a pretrain run or a Hugging Face BART directory)");
        var resumed = dir.Open(run);
        var tokenizer = StartFrom(from, dir);
        var state = resumed && File.Exists(dir.LastCheckpoint)
            ? ModelState.Load(dir.LastCheckpoint, env.Device, withOptimizer: true).State
            : ModelState.FromModelDirectory(from, env.Device);
        return Denoise(run, dir, env, state, tokenizer, resumed);
    }

    private static int Denoise(RunConfig run, RunDirectory dir, StageEnvironment env, ModelState state, HuggingFace.ModelTokenizer tokenizer, bool resumed)
    {
        if (File.Exists(dir.FinalFile)) return AlreadyDone(dir, env);
        CheckLengths(run, state.Config);
        var vocab = tokenizer.Tokenizer;
        var labelStart = tokenizer.LabelStart;
        var resolved = PolicySpecModule.resolve(vocab.Specials, run.Policy ?? "orig");
        if (resolved.IsError) throw new CliError(resolved.ErrorValue);
        var policy = resolved.ResultValue;
        var examples = Corpora.Examples(run.Corpus, vocab, env.DataRoot);
        var specials = vocab.Specials;
        if (run.Scorer is not null)
        {
            // The scorer is fixed during intermediate pre-training: score every example once.
            var path = Path.Combine(run.Scorer, Scorer.FileName);
            if (!File.Exists(path)) throw new CliError($"{path}:0: expected a span scorer (made by `masking learn-policy`)");
            var scorer = Scorer.Load(path, env.Device).Scorer;
            examples = examples.Select(e => new Example(e.Tokens, e.WordStarts, e.Sentences, e.Annotations, scorer.ScoreUnits(e.Tokens, e.WordStarts, e.Annotations, specials, env.Device))).ToArray();
            env.Log.WriteLine($"{run.Stage}: {examples.Length} examples scored by the {scorer.Kind} scorer of {run.Scorer}");
        }
        var resumedMeta = resumed && File.Exists(dir.LastCheckpoint) ? MetaOf(dir.LastCheckpoint) : new Dictionary<string, string>();
        long start = StepOf(dir.LastCheckpoint, resumedMeta);
        if (start > 0)
        {
            dir.TruncateMetricsAfter(start);
            env.Log.WriteLine($"{run.Stage}: resuming {dir.Path} at step {start}");
        }
        var plans = new EpochCache(examples.Length, i => examples[i].Tokens.Length, run.BatchSize, run.Seed);
        // How many sources and targets the length limits cut, counted over every example's epoch-0 mask (a fixed
        // set, so a resumed run reports the same figures).
        var firstMasks = examples.Select((e, i) => policy.Apply.Invoke(new MaskContext(Seeds.derive(run.Seed, 0, i), 0)).Invoke(e)).ToList();
        var cut = new Truncation(examples.Length,
            firstMasks.Count(m => Truncation.Cuts(true, m.Source.Length, run.MaxSourceLength)),
            firstMasks.Count(m => Truncation.Cuts(false, m.Target.Length + tokenizer.ExtraLabelTokens, run.MaxTargetLength)));
        env.Log.WriteLine($"{run.Stage}: {cut.Describe(run.MaxSourceLength, run.MaxTargetLength)} (epoch-0 masks)");

        Batch BatchFor(long step)
        {
            var (epoch, indices) = plans.At(step);
            var pairs = indices.Select(i =>
            {
                // The mask of example i in this epoch: seeded by (run seed, epoch, example index) only.
                var m = policy.Apply.Invoke(new MaskContext(Seeds.derive(run.Seed, epoch, i), step)).Invoke(examples[i]);
                return new SequencePair(
                    Wrap(specials.Bos, m.Source, specials.Eos, run.MaxSourceLength),
                    Wrap(labelStart, m.Target, specials.Eos, run.MaxTargetLength));
            }).ToList();
            return Batch.Create(pairs, specials.Pad, state.Config.DecoderStartId, env.Device);
        }

        var loss = RunLoop(run, dir, env, state, start, BatchFor, null, null, resumedMeta);
        HuggingFace.ModelDirectory.SaveModel(dir.Path, state.Parameters, new Dictionary<string, string> { ["step"] = run.Steps.ToString(CultureInfo.InvariantCulture) });
        Finish(dir, new Dictionary<string, object> { ["stage"] = run.Stage, ["steps"] = run.Steps, ["final_loss"] = loss, ["truncation"] = cut.ToJson() });
        env.Log.WriteLine($"{run.Stage}: done, final loss {loss:F4}; {dir.Path}");
        return 0;
    }

    // ---- fine-tuning ------------------------------------------------------------------------------------

    public static int Finetune(RunConfig run, RunDirectory dir, StageEnvironment env)
    {
        var from = run.From ?? throw new CliError("finetune: expected --from DIR (a pretrain or intermediate run, or a Hugging Face BART directory)");
        var task = FindTask(run.Task);
        var resumed = dir.Open(run);
        if (File.Exists(dir.FinalFile)) return AlreadyDone(dir, env);
        var tokenizer = StartFrom(from, dir);
        var vocab = tokenizer.Tokenizer;
        ModelState state;
        IReadOnlyDictionary<string, string> meta = new Dictionary<string, string>();
        if (resumed && File.Exists(dir.LastCheckpoint)) (state, meta) = ModelState.Load(dir.LastCheckpoint, env.Device, withOptimizer: true);
        else state = ModelState.FromModelDirectory(from, env.Device);

        CheckLengths(run, state.Config);
        var trainExamples = Limit(Subset(LoadSplit(task, Split.Train, env), run.TrainFraction, run.Seed), run.MaxTrainExamples);
        var focus = task.Focus?.Value;
        var train = Pairs(trainExamples, tokenizer, run, focus);
        var dev = Limit(LoadSplit(task, Split.Dev, env), run.MaxDevExamples);
        if (train.Count == 0) throw new CliError($"finetune: task {task.Name} has no training examples in {DataRootOf(task, env)}");
        if (dev.Count == 0) throw new CliError($"finetune: task {task.Name} has no dev examples in {DataRootOf(task, env)} (early stopping needs them)");
        var trainCut = new Truncation(trainExamples.Count,
            trainExamples.Count(e => Truncation.Cuts(true, vocab.Encode(e.Source).Ids.Length, run.MaxSourceLength)),
            trainExamples.Count(e => Truncation.Cuts(false, vocab.Encode(e.Targets.Head).Ids.Length + tokenizer.ExtraLabelTokens, run.MaxTargetLength)));
        var devCut = new Truncation(dev.Count, dev.Count(e => Truncation.Cuts(true, vocab.Encode(e.Source).Ids.Length, run.MaxSourceLength)), 0);
        env.Log.WriteLine($"finetune: train {trainCut.Describe(run.MaxSourceLength, run.MaxTargetLength)}; dev {devCut.Describe(run.MaxSourceLength, null)}");
        var metric = task.Metrics.Head;
        var key = MetricModule.key(metric);
        double best = meta.TryGetValue("best", out var b) ? double.Parse(b, CultureInfo.InvariantCulture) : double.NegativeInfinity;
        long bestStep = meta.TryGetValue("best_step", out var bs) ? long.Parse(bs, CultureInfo.InvariantCulture) : 0;
        int badEvals = meta.TryGetValue("bad_evals", out var be) ? int.Parse(be, CultureInfo.InvariantCulture) : 0;
        long start = meta.TryGetValue("step", out var st) ? long.Parse(st, CultureInfo.InvariantCulture) : 0;
        if (start > 0)
        {
            dir.TruncateMetricsAfter(start);
            env.Log.WriteLine($"finetune: resuming {dir.Path} at step {start}");
        }
        var plans = new EpochCache(train.Count, i => train[i].Source.Length, run.BatchSize, run.Seed);
        Batch BatchFor(long step) =>
            Batch.Create(plans.At(step).Indices.Select(i => train[i]).ToList(), vocab.Specials.Pad, state.Config.DecoderStartId, env.Device);

        bool AfterStep(long step)
        {
            if (step % run.EvalEvery != 0 && step != run.Steps) return false;
            var predictions = Predict(state, tokenizer, dev, run, beam: 1, focus);
            var score = MetricModule.score(metric, Microsoft.FSharp.Collections.ListModule.OfSeq(
                dev.Select((e, i) => Tuple.Create(predictions[i], e.Targets))));
            dir.AppendMetrics(string.Create(CultureInfo.InvariantCulture, $"{{\"step\":{step},\"dev_{key}\":{score:R}}}"));
            if (score > best)
            {
                best = score;
                bestStep = step;
                badEvals = 0;
                HuggingFace.ModelDirectory.SaveModel(dir.Path, state.Parameters, new Dictionary<string, string> { ["step"] = step.ToString(CultureInfo.InvariantCulture) });
                RunDirectory.WriteAtomically(dir.PredictionsFile, string.Concat(dev.Select((e, i) =>
                    JsonSerializer.Serialize(new { id = e.Id, output = new[] { new { answer = predictions[i] } } }, Json) + "\n")));
            }
            else badEvals++;
            return badEvals >= run.Patience;
        }

        IReadOnlyDictionary<string, string> EarlyStoppingState() => new Dictionary<string, string>
        {
            ["best"] = best.ToString("R", CultureInfo.InvariantCulture),
            ["best_step"] = bestStep.ToString(CultureInfo.InvariantCulture),
            ["bad_evals"] = badEvals.ToString(CultureInfo.InvariantCulture),
        };

        RunLoop(run, dir, env, state, start, BatchFor, AfterStep, EarlyStoppingState, meta);
        Finish(dir, new Dictionary<string, object>
        {
            ["stage"] = "finetune", ["task"] = task.Name, ["best_step"] = bestStep, ["dev_" + key] = best,
            ["truncation"] = new Dictionary<string, object> { ["train"] = trainCut.ToJson(), ["dev"] = devCut.ToJson() },
        });
        env.Log.WriteLine($"finetune: best dev {key} {best:F4} at step {bestStep}; {dir.Path}");
        return 0;
    }

    // ---- evaluation -------------------------------------------------------------------------------------

    /// <summary>What <c>masking evaluate</c> takes. A fine-tuning run gives its task and length limits; for any other
    /// model directory (a Hugging Face BART one, say) <see cref="Task"/> is required and the limits default to
    /// <see cref="RunConfig"/>'s.</summary>
    public sealed record EvaluateOptions(string From, string Split = "test", int Beam = 4, string? Out = null, int? MaxExamples = null,
        string? Task = null, int? MaxSourceLength = null, int? MaxTargetLength = null, string? Choice = null, string? ChoiceNormalisation = null);

    public static int Evaluate(EvaluateOptions options, StageEnvironment env)
    {
        var (fromPath, splitName, beam, outPath, maxExamples) = (options.From, options.Split, options.Beam, options.Out, options.MaxExamples);
        var from = new RunDirectory(fromPath);
        RunConfig run;
        if (File.Exists(from.ConfigFile))
            run = RunConfig.FromJson(File.ReadAllText(from.ConfigFile)) ?? throw new CliError($"{from.ConfigFile}:1: expected a run configuration");
        else if (HuggingFace.ModelDirectory.HasModel(from.Path))
            run = new RunConfig { Stage = "evaluate", Task = options.Task ?? throw new CliError($"evaluate: {from.Path} is not a fine-tuning run; expected --task TASK") };
        else throw new CliError($"{from.ConfigFile}:0: expected a finetune run directory (or a Hugging Face BART directory with --task)");
        run = run with
        {
            Task = options.Task ?? run.Task, MaxSourceLength = options.MaxSourceLength ?? run.MaxSourceLength,
            MaxTargetLength = options.MaxTargetLength ?? run.MaxTargetLength,
            Choice = options.Choice ?? run.Choice, ChoiceNormalisation = options.ChoiceNormalisation ?? run.ChoiceNormalisation,
        };
        var task = FindTask(run.Task);
        var split = SplitModule.parse(splitName);
        if (split.IsError) throw new CliError("--split: " + split.ErrorValue);
        if (!HuggingFace.ModelDirectory.HasModel(from.Path)) throw new CliError($"{from.ModelFile}:0: expected the fine-tuned model (has the run finished?)");
        var state = ModelState.FromModelDirectory(from.Path, env.Device);
        CheckLengths(run, state.Config);
        var tokenizer = HuggingFace.ModelDirectory.LoadTokenizer(from.Path);
        var vocab = tokenizer.Tokenizer;
        var examples = Limit(LoadSplit(task, split.ResultValue, env), maxExamples);
        var cut = new Truncation(examples.Count, examples.Count(e => Truncation.Cuts(true, vocab.Encode(e.Source).Ids.Length, run.MaxSourceLength)), 0);
        env.Log.WriteLine($"evaluate: {splitName} {cut.Describe(run.MaxSourceLength, null)}");
        var predictions = Predict(state, tokenizer, examples, run, beam, task.Focus?.Value);
        var pairs = Microsoft.FSharp.Collections.ListModule.OfSeq(examples.Select((e, i) => Tuple.Create(predictions[i], e.Targets)));
        var scores = task.Metrics.Select(m => (Key: MetricModule.key(m), Value: MetricModule.score(m, pairs))).DistinctBy(s => s.Key).ToList();

        var outDir = outPath ?? Path.Combine(from.Path, "eval-" + splitName);
        Directory.CreateDirectory(outDir);
        RunDirectory.WriteAtomically(Path.Combine(outDir, "predictions.jsonl"), string.Concat(examples.Select((e, i) =>
            JsonSerializer.Serialize(new { id = e.Id, output = new[] { new { answer = predictions[i] } } }, Json) + "\n")));
        var result = new Dictionary<string, object> { ["task"] = task.Name, ["split"] = splitName, ["count"] = examples.Count, ["beam"] = beam, ["sources_cut"] = cut.SourcesCut };
        if (examples.Any(e => !e.Options.IsEmpty))
        {
            // Free generation can answer with something that is no option at all; rank classification never does.
            result["choice"] = run.Choice;
            result["outside_options"] = Math.Round(examples.Select((e, i) => (e, i)).Where(x => !x.e.Options.IsEmpty)
                .Average(x => x.e.Options.Any(o => string.Equals(o.Trim(), predictions[x.i].Trim(), StringComparison.OrdinalIgnoreCase)) ? 0.0 : 1.0), 6);
        }
        foreach (var (k, v) in scores) result[k] = Math.Round(v, 6);
        var json = JsonSerializer.Serialize(result, Json);
        RunDirectory.WriteAtomically(Path.Combine(outDir, "metrics.json"), json + "\n");
        Console.Out.WriteLine(json);
        env.Log.WriteLine($"evaluate: {examples.Count} predictions in {outDir}");
        return 0;
    }

    // ---- shared -----------------------------------------------------------------------------------------

    private static double RunLoop(RunConfig run, RunDirectory dir, StageEnvironment env, ModelState state, long start,
        Func<long, Batch> batchFor, Func<long, bool>? afterStep, Func<IReadOnlyDictionary<string, string>>? meta,
        IReadOnlyDictionary<string, string> resumedMeta)
    {
        double Body(IProgressSink sink)
        {
            var trainer = new Trainer(state, run, dir, sink) { AfterStep = afterStep, CheckpointMeta = meta };
            try { return trainer.Run(start, batchFor, resumedMeta); }
            catch (TrainingDiverged e) { throw new CliError($"{run.Stage}: training diverged at {e.Message}"); }
        }
        return env.Interactive
            ? LiveProgress.Run(run.Stage, run.Steps, start, Body)
            : Body(new LineProgress(env.Log, run.Stage, Math.Max(run.LogEvery, run.Steps / 20)));
    }

    /// <summary>
    /// The answer to every example: for a question with options under <c>--choice rank</c> (the default), the
    /// option the model finds most likely as the target (<see cref="Likelihood"/>); otherwise the decoded text
    /// (greedy when beam = 1), without &lt;s&gt; and &lt;pad&gt; (as Hugging Face's <c>skip_special_tokens</c>;
    /// models with Hugging Face's labels begin with &lt;s&gt;).
    /// </summary>
    public static List<string> Predict(ModelState state, HuggingFace.ModelTokenizer tokenizer, IReadOnlyList<TaskExample> examples, RunConfig run, int beam, string? focus = null)
    {
        var vocab = tokenizer.Tokenizer;
        bool Ranked(TaskExample e) => run.Choice == "rank" && !e.Options.IsEmpty;
        var generated = Generate(state, vocab, examples.Where(e => !Ranked(e)).ToList(), run, beam, focus);
        var ranked = Rank(state, tokenizer, examples.Where(Ranked).ToList(), run, focus);
        int g = 0, r = 0;
        return examples.Select(e => Ranked(e) ? ranked[r++] : generated[g++]).ToList();
    }

    /// <summary>Rank classification: each option's labels scored given the source, the best one chosen.</summary>
    private static List<string> Rank(ModelState state, HuggingFace.ModelTokenizer tokenizer, IReadOnlyList<TaskExample> examples, RunConfig run, string? focus)
    {
        var vocab = tokenizer.Tokenizer;
        var result = new List<string>(examples.Count);
        const int chunk = 16;
        for (var start = 0; start < examples.Count; start += chunk)
        {
            using var scope = torch.NewDisposeScope();
            var part = examples.Skip(start).Take(chunk).ToList();
            var pairs = part.SelectMany(e =>
            {
                var source = SourceIds(vocab, e.Source, focus, run.MaxSourceLength);
                return e.Options.Select(o => new SequencePair(source, Wrap(tokenizer.LabelStart, vocab.Encode(o).Ids, vocab.Specials.Eos, run.MaxTargetLength)));
            }).ToList();
            using var batch = Batch.Create(pairs, vocab.Specials.Pad, state.Config.DecoderStartId, state.Parameters.First().Value.device);
            var scores = Likelihood.targetLogProbs(state.Config, state.Parameters, batch.Source, batch.DecoderInput, batch.Target);
            var at = 0;
            foreach (var e in part)
            {
                var options = e.Options.ToArray();
                result.Add(options[Likelihood.choose(run.ChoiceNormalisation == "mean", scores[at..(at + options.Length)])]);
                at += options.Length;
            }
        }
        return result;
    }

    /// <summary>Decodes every example (greedy when beam = 1) and renders the answers as text.</summary>
    private static List<string> Generate(ModelState state, ITokenizer vocab, IReadOnlyList<TaskExample> examples, RunConfig run, int beam, string? focus)
    {
        var result = new List<string>(examples.Count);
        const int chunk = 64;
        for (var start = 0; start < examples.Count; start += chunk)
        {
            using var scope = torch.NewDisposeScope();
            var pairs = examples.Skip(start).Take(chunk)
                .Select(e => new SequencePair(SourceIds(vocab, e.Source, focus, run.MaxSourceLength), [vocab.Specials.Eos]))
                .ToList();
            using var batch = Batch.Create(pairs, vocab.Specials.Pad, state.Config.DecoderStartId, state.Parameters.First().Value.device);
            var ids = beam <= 1
                ? Decode.greedy(state.Config, state.Parameters, batch.Source, run.MaxTargetLength)
                : Decode.beam(state.Config, state.Parameters, batch.Source, beam, run.MaxTargetLength, 1.0);
            result.AddRange(ids.Select(t => vocab.Decode(t.Where(id => id != vocab.Specials.Bos && id != vocab.Specials.Pad).ToArray()).Trim()));
        }
        return result;
    }

    private static List<SequencePair> Pairs(IReadOnlyList<TaskExample> examples, HuggingFace.ModelTokenizer tokenizer, RunConfig run, string? focus)
    {
        var vocab = tokenizer.Tokenizer;
        return examples.Select(e => new SequencePair(
            SourceIds(vocab, e.Source, focus, run.MaxSourceLength),
            Wrap(tokenizer.LabelStart, vocab.Encode(e.Targets.Head).Ids, vocab.Specials.Eos, run.MaxTargetLength))).ToList();
    }

    /// <summary>A task source as the encoder reads it: &lt;s&gt; + <see cref="SourceBody"/> + &lt;/s&gt;.</summary>
    private static int[] SourceIds(ITokenizer vocab, string text, string? focus, int maxLength) =>
        Wrap(vocab.Specials.Bos, SourceBody(vocab, text, focus, maxLength), vocab.Specials.Eos, maxLength);

    /// <summary>
    /// A source's tokens, at most what fits beside &lt;s&gt; and &lt;/s&gt;: its first tokens, or for a task with a
    /// focus marker (AY2's "[START_ENT]") a window that starts a quarter of the room before the marker, so that a
    /// long document keeps the mention to be linked (the first tokens alone lost it in 198 of 200 AY2 training
    /// sources at 128 tokens).
    /// </summary>
    public static int[] SourceBody(ITokenizer vocab, string text, string? focus, int maxLength)
    {
        var encoded = vocab.Encode(text);
        var room = Math.Max(0, maxLength - 2);
        if (encoded.Ids.Length <= room || focus is null) return encoded.Ids;
        var at = text.IndexOf(focus, StringComparison.Ordinal);
        if (at < 0) return encoded.Ids;
        var token = Array.FindIndex(encoded.Offsets, o => o.End > at);
        if (token < 0) return encoded.Ids;
        var start = Math.Clamp(token - room / 4, 0, encoded.Ids.Length - room);
        return encoded.Ids[start..(start + room)];
    }

    /// <summary>A model has positions for max_position_embeddings tokens: longer limits are refused before training.</summary>
    private static void CheckLengths(RunConfig run, ModelConfig model)
    {
        if (run.MaxSourceLength > model.MaxPositions)
            throw new CliError($"--max-source-length: {run.MaxSourceLength} is more than the model's {model.MaxPositions} positions (max_position_embeddings)");
        if (run.MaxTargetLength > model.MaxPositions)
            throw new CliError($"--max-target-length: {run.MaxTargetLength} is more than the model's {model.MaxPositions} positions (max_position_embeddings)");
    }

    /// <summary>[bos] + body (cut to fit) + [eos]; bos &lt; 0 means none.</summary>
    public static int[] Wrap(int bos, int[] body, int eos, int maxLength)
    {
        var room = maxLength - 1 - (bos >= 0 ? 1 : 0);
        var list = new List<int>(maxLength);
        if (bos >= 0) list.Add(bos);
        list.AddRange(body.Take(Math.Max(0, room)));
        list.Add(eos);
        return list.ToArray();
    }

    /// <summary>The first ⌈fraction·n⌉ examples of a seeded shuffle; the whole split at fraction 1.</summary>
    public static IReadOnlyList<TaskExample> Subset(IReadOnlyList<TaskExample> examples, double fraction, ulong seed)
    {
        if (fraction >= 1.0) return examples;
        var rng = new Rng(Seeds.derive(seed, -7, 0L));
        var order = Enumerable.Range(0, examples.Count).ToArray();
        rng.Shuffle(order);
        var keep = Math.Max(1, (int)Math.Ceiling(fraction * examples.Count));
        return order.Take(keep).Order().Select(i => examples[i]).ToList();
    }

    /// <summary>The first <paramref name="max"/> examples (all when null): real tasks' subsets for quick runs.</summary>
    private static IReadOnlyList<TaskExample> Limit(IReadOnlyList<TaskExample> examples, int? max) =>
        max is { } m && m < examples.Count ? examples.Take(m).ToList() : examples;

    private static string DataRootOf(TaskInfo task, StageEnvironment env) =>
        task.NeedsDataRoot ? DataRoot.Resolve(env.DataRoot) : "the generated world";

    private static IReadOnlyList<TaskExample> LoadSplit(TaskInfo task, Split split, StageEnvironment env) => LoadSplit(task, split, env.DataRoot);

    /// <summary>A split of a task: the generated world's, or read under the data root.</summary>
    internal static IReadOnlyList<TaskExample> LoadSplit(TaskInfo task, Split split, string? dataRoot)
    {
        var root = task.NeedsDataRoot ? DataRoot.Resolve(dataRoot) : "";
        var loaded = task.Load.Invoke(root).Invoke(split);
        if (loaded.IsError) throw new CliError(loaded.ErrorValue);
        return loaded.ResultValue.ToList();
    }

    private static TaskInfo FindTask(string? name)
    {
        var t = Registry.find(name ?? throw new CliError("expected --task TASK"));
        return t.IsOk ? t.ResultValue : throw new CliError(t.ErrorValue);
    }

    internal static ByteBpeTokenizer LoadVocab(string path)
    {
        var m = ByteBpeModelModule.load(path);
        return m.IsOk ? new ByteBpeTokenizer(m.ResultValue) : throw new CliError(m.ErrorValue);
    }

    /// <summary>
    /// Checks the model a stage starts from (a finished run, or a Hugging Face BART directory), copies its
    /// config.json and tokenizer into the new run, and gives the tokenizer with its label convention.
    /// </summary>
    internal static HuggingFace.ModelTokenizer StartFrom(string from, RunDirectory to)
    {
        var source = new RunDirectory(from);
        if (!Directory.Exists(source.Path)) throw new CliError($"{from}:0: expected a run directory or a Hugging Face BART directory (--from)");
        if (File.Exists(source.ConfigFile) && !File.Exists(source.FinalFile))
            throw new CliError($"{source.FinalFile}:0: expected the run given by --from to have finished");
        if (!HuggingFace.ModelDirectory.HasModel(source.Path))
            throw new CliError($"{source.ModelFile}:0: expected a model here (a finished run, or a Hugging Face BART directory: config.json with {HuggingFace.BartDirectory.Safetensors} or {HuggingFace.BartDirectory.PyTorchBin})");
        HuggingFace.ModelDirectory.CopyConfigAndTokenizer(source.Path, to.Path);
        return HuggingFace.ModelDirectory.LoadTokenizer(to.Path);
    }

    private static IReadOnlyDictionary<string, string> MetaOf(string checkpoint)
    {
        var meta = Checkpoint.meta(checkpoint);
        if (meta.IsError) throw new CliError(meta.ErrorValue);
        return meta.ResultValue.ToDictionary(kv => kv.Key, kv => kv.Value);
    }

    /// <summary>The step a checkpoint was written at (0 for a fresh run: no metadata).</summary>
    private static long StepOf(string checkpoint, IReadOnlyDictionary<string, string> meta) =>
        meta.Count == 0 ? 0
        : meta.TryGetValue("step", out var step) && long.TryParse(step, NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) ? s
        : throw new CliError($"{checkpoint}:0: expected a \"step\" in the checkpoint's metadata");

    private static void Finish(RunDirectory dir, Dictionary<string, object> result) =>
        RunDirectory.WriteAtomically(dir.FinalFile, JsonSerializer.Serialize(result, Json) + "\n");

    private static int AlreadyDone(RunDirectory dir, StageEnvironment env)
    {
        env.Log.WriteLine($"already finished: {File.ReadAllText(dir.FinalFile).Trim()} ({dir.Path})");
        return 0;
    }

    /// <summary>Plans one epoch at a time; step s is batch (s mod n) of epoch (s div n).</summary>
    private sealed class EpochCache(int count, Func<int, int> length, int batchSize, ulong seed)
    {
        private int _epoch = -1;
        private IReadOnlyList<int[]> _batches = [];

        public (int Epoch, int[] Indices) At(long step)
        {
            if (count == 0) throw new CliError("no training examples");
            var perEpoch = (count + batchSize - 1) / batchSize;
            var epoch = (int)(step / perEpoch);
            if (epoch != _epoch)
            {
                _batches = EpochPlan.Batches(count, length, batchSize, seed, epoch);
                _epoch = epoch;
            }
            return (epoch, _batches[(int)(step % _batches.Count)]);
        }
    }
}
