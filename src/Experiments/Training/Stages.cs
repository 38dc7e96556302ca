using System.Globalization;
using System.Text.Json;
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
    // ---- denoising stages -------------------------------------------------------------------------------

    public static int Pretrain(RunConfig run, RunDirectory dir, StageEnvironment env)
    {
        var resumed = dir.Open(run);
        ByteBpeTokenizer tokenizer;
        if (File.Exists(dir.VocabFile)) tokenizer = StageInputs.LoadVocab(dir.VocabFile);
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
            ?? throw new InputError($"--preset: unknown preset '{run.Preset}'; known: {string.Join(", ", ModelConfigModule.presets.Select(p => p.Item1))}");
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
        var from = run.From ?? throw new InputError("intermediate: expected --from DIR (a pretrain run or a Hugging Face BART directory)");
        var resumed = dir.Open(run);
        var tokenizer = StageInputs.StartFrom(from, dir);
        var state = resumed && File.Exists(dir.LastCheckpoint)
            ? ModelState.Load(dir.LastCheckpoint, env.Device, withOptimizer: true).State
            : ModelState.FromModelDirectory(from, env.Device);
        return Denoise(run, dir, env, state, tokenizer, resumed);
    }

    private static int Denoise(RunConfig run, RunDirectory dir, StageEnvironment env, ModelState state, HuggingFace.ModelTokenizer tokenizer, bool resumed)
    {
        if (File.Exists(dir.FinalFile)) return AlreadyDone(dir, env);
        Prediction.CheckLengths(run, state.Config);
        var vocab = tokenizer.Tokenizer;
        var labelStart = tokenizer.LabelStart;
        var spec = RunPmiVocabulary.Resolve(run.Policy ?? "orig", dir.Path, vocab, () => Corpora.Texts(run.Corpus, env.DataRoot), env.Log)!;
        var resolved = PolicySpecModule.resolve(vocab.Specials, spec);
        if (resolved.IsError) throw new InputError(resolved.ErrorValue);
        var policy = resolved.ResultValue;
        var examples = Corpora.Examples(run.Corpus, vocab, env.DataRoot);
        var specials = vocab.Specials;
        if (run.Scorer is not null)
        {
            // The scorer is fixed during intermediate pre-training: score every example once.
            var path = Path.Combine(run.Scorer, Scorer.FileName);
            if (!File.Exists(path)) throw new InputError($"{path}:0: expected a span scorer (made by `masking learn-policy`)");
            var scorer = Scorer.Load(path, env.Device).Scorer;
            examples = examples.Select(e => new Example(e.Tokens, e.WordStarts, e.Sentences, e.Annotations, scorer.ScoreUnits(e.Tokens, e.WordStarts, e.Annotations, specials, env.Device))).ToArray();
            env.Log.WriteLine($"{run.Stage}: {examples.Length} examples scored by the {scorer.Kind} scorer of {run.Scorer}");
        }
        var resumedMeta = resumed && File.Exists(dir.LastCheckpoint) ? StageInputs.MetaOf(dir.LastCheckpoint) : new Dictionary<string, string>();
        long start = StageInputs.StepOf(dir.LastCheckpoint, resumedMeta);
        // Lines logged after the checkpoint (or, killed before the first one, every line) are dropped.
        if (resumed) dir.TruncateMetricsAfter(start);
        if (start > 0) env.Log.WriteLine($"{run.Stage}: resuming {dir.Path} at step {start}");
        var plans = new EpochCache(examples.Length, i => examples[i].Tokens.Length, run.BatchSize, run.Seed);
        // loss-guided: the model's own losses, scored again every N steps (null for any other policy).
        var guidance = LossGuidance.For(spec, dir.Path, vocab, env.Device);
        Example[] ExamplesAt(long step, long current) => guidance is null ? examples : guidance.At(step, current, examples, state, tokenizer, run);
        // How many sources and targets the length limits cut, counted over every example's epoch-0 mask (a fixed
        // set, so a resumed run reports the same figures).
        var firstMasks = ExamplesAt(0, start).Select((e, i) => policy.Apply.Invoke(new MaskContext(Seeds.derive(run.Seed, 0, i), 0)).Invoke(e)).ToList();
        var cut = new Truncation(examples.Length,
            firstMasks.Count(m => Truncation.Cuts(true, m.Source.Length, run.MaxSourceLength)),
            firstMasks.Count(m => Truncation.Cuts(false, m.Target.Length + tokenizer.ExtraLabelTokens, run.MaxTargetLength)));
        env.Log.WriteLine($"{run.Stage}: {cut.Describe(run.MaxSourceLength, run.MaxTargetLength)} (epoch-0 masks)");

        Batch BatchFor(long step)
        {
            var (epoch, indices) = plans.At(step);
            var seen = ExamplesAt(step, step);
            var pairs = indices.Select(i =>
            {
                // The mask of example i in this epoch: seeded by (run seed, epoch, example index) only.
                var m = policy.Apply.Invoke(new MaskContext(Seeds.derive(run.Seed, epoch, i), step)).Invoke(seen[i]);
                return new SequencePair(
                    Prediction.Wrap(specials.Bos, m.Source, specials.Eos, run.MaxSourceLength),
                    Prediction.Wrap(labelStart, m.Target, specials.Eos, run.MaxTargetLength));
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
        var from = run.From ?? throw new InputError("finetune: expected --from DIR (a pretrain or intermediate run, or a Hugging Face BART directory)");
        var task = StageInputs.FindTask(run.Task);
        var resumed = dir.Open(run);
        if (File.Exists(dir.FinalFile)) return AlreadyDone(dir, env);
        var tokenizer = StageInputs.StartFrom(from, dir);
        var vocab = tokenizer.Tokenizer;
        ModelState state;
        IReadOnlyDictionary<string, string> meta = new Dictionary<string, string>();
        if (resumed && File.Exists(dir.LastCheckpoint)) (state, meta) = ModelState.Load(dir.LastCheckpoint, env.Device, withOptimizer: true);
        else state = ModelState.FromModelDirectory(from, env.Device);

        Prediction.CheckLengths(run, state.Config);
        var trainExamples = StageInputs.Limit(StageInputs.Subset(StageInputs.LoadSplit(task, Split.Train, env), run.TrainFraction, run.Seed), run.MaxTrainExamples);
        var focus = task.Focus?.Value;
        var train = Prediction.Pairs(trainExamples, tokenizer, run, focus);
        var dev = StageInputs.Limit(StageInputs.LoadSplit(task, Split.Dev, env), run.MaxDevExamples);
        if (train.Count == 0) throw new InputError($"finetune: task {task.Name} has no training examples in {StageInputs.DataRootOf(task, env)}");
        if (dev.Count == 0) throw new InputError($"finetune: task {task.Name} has no dev examples in {StageInputs.DataRootOf(task, env)} (early stopping needs them)");
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
        if (resumed) dir.TruncateMetricsAfter(start);
        if (start > 0) env.Log.WriteLine($"finetune: resuming {dir.Path} at step {start}");
        var plans = new EpochCache(train.Count, i => train[i].Source.Length, run.BatchSize, run.Seed);
        Batch BatchFor(long step) =>
            Batch.Create(plans.At(step).Indices.Select(i => train[i]).ToList(), vocab.Specials.Pad, state.Config.DecoderStartId, env.Device);

        bool AfterStep(long step)
        {
            if (step % run.EvalEvery != 0 && step != run.Steps) return false;
            var predictions = Prediction.Predict(state, tokenizer, dev, run, beam: 1, focus);
            var score = MetricModule.score(metric, Microsoft.FSharp.Collections.ListModule.OfSeq(
                dev.Select((e, i) => Tuple.Create(predictions[i], e.Targets))));
            dir.AppendMetrics(string.Create(CultureInfo.InvariantCulture, $"{{\"step\":{step},\"dev_{key}\":{score:R}}}"));
            if (score > best)
            {
                best = score;
                bestStep = step;
                badEvals = 0;
                HuggingFace.ModelDirectory.SaveModel(dir.Path, state.Parameters, new Dictionary<string, string> { ["step"] = step.ToString(CultureInfo.InvariantCulture) });
                Prediction.Write(dir.PredictionsFile, dev, predictions);
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

    // ---- shared -----------------------------------------------------------------------------------------

    private static double RunLoop(RunConfig run, RunDirectory dir, StageEnvironment env, ModelState state, long start,
        Func<long, Batch> batchFor, Func<long, bool>? afterStep, Func<IReadOnlyDictionary<string, string>>? meta,
        IReadOnlyDictionary<string, string> resumedMeta)
    {
        double Body(IProgressSink sink)
        {
            var trainer = new Trainer(state, run, dir, sink) { AfterStep = afterStep, CheckpointMeta = meta };
            try { return trainer.Run(start, batchFor, resumedMeta); }
            catch (TrainingDiverged e) { throw new InputError($"{run.Stage}: training diverged at {e.Message}"); }
        }
        return env.Interactive
            ? LiveProgress.Run(run.Stage, run.Steps, start, Body)
            : Body(new LineProgress(env.Log, run.Stage, Math.Max(run.LogEvery, run.Steps / 20)));
    }

    internal static void Finish(RunDirectory dir, Dictionary<string, object> result) =>
        RunDirectory.WriteAtomically(dir.FinalFile, JsonSerializer.Serialize(result, RunDirectory.Json) + "\n");

    internal static int AlreadyDone(RunDirectory dir, StageEnvironment env)
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
            if (count == 0) throw new InputError("no training examples");
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
