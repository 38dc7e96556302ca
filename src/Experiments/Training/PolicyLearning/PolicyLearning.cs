using Masking.Learned;
using Masking.Tasks;

namespace Masking.Experiments.Training;

/// <summary>
/// <c>masking learn-policy --kind supervised|meta --task TASK --from LM_RUN --out DIR</c>: finds each example's
/// context (<see cref="PolicyContexts"/>), builds the span scorer (fresh, on the language model's encoder, or
/// from another run's), trains it (<see cref="SupervisedScorerTraining"/>, <see cref="MetaScorerTraining"/>)
/// and writes final.json with the context search's rates and, for supervised scorers, held-out test span F1.
/// </summary>
public static class PolicyLearning
{
    public static int Run(LearnPolicyOptions o, RunDirectory dir, StageEnvironment env)
    {
        if (o.Invalid() is { } invalid) throw new InputError("learn-policy: " + invalid);
        dir.Open(o);
        if (File.Exists(dir.FinalFile)) return Stages.AlreadyDone(dir, env);
        var vocab = StageInputs.StartFrom(o.From, dir).Tokenizer;
        var task = Registry.find(o.Task);
        if (task.IsError) throw new InputError(task.ErrorValue);
        // Contexts must fit the language model's positions (and the small scorer's 256).
        var positions = Math.Min(256, HuggingFace.BartConfigFile.Read(dir.ModelConfigFile).Config.MaxPositions);
        var longest = Math.Min(250, positions - 2);
        var trainContexts = PolicyContexts.Locate(task.ResultValue, Split.Train, vocab, o.Corpus, env, longest);
        var devContexts = PolicyContexts.Locate(task.ResultValue, Split.Dev, vocab, o.Corpus, env, longest);
        var (train, dev) = (trainContexts.Found, devContexts.Found);
        if (train.Count == 0) throw new InputError($"learn-policy: no training context of {o.Task} contains its answer");
        trainContexts.Log("train", env.Log);
        devContexts.Log("dev", env.Log);

        var scorer = FreshScorer(o, env, vocab);
        var result = o.Kind == "supervised"
            ? SupervisedScorerTraining.Run(o, dir, env, scorer, train, dev)
            : MetaScorerTraining.Run(o, dir, env, scorer, vocab, train, dev, Math.Min(120, positions - 2));
        trainContexts.Record("train", result);
        devContexts.Record("dev", result);
        if (o.Kind == "supervised")
        {
            // Early stopping chose the checkpoint on dev; the held-out test contexts give the unbiased comparison.
            var testContexts = PolicyContexts.Locate(task.ResultValue, Split.Test, vocab, o.Corpus, env, longest);
            var test = testContexts.Found;
            testContexts.Log("test", env.Log);
            testContexts.Record("test", result);
            var best = Scorer.Load(Path.Combine(dir.Path, Scorer.FileName), env.Device).Scorer;
            var (randomSpan, randomEntity) = SpanBaselines.Of(test);
            result["test_span_f1"] = SupervisedScorerTraining.SpanF1(best, test, env.Device);
            result["test_random_span_f1"] = randomSpan;
            result["test_random_entity_span_f1"] = randomEntity;
        }
        Stages.Finish(dir, result);
        env.Log.WriteLine($"learn-policy: {File.ReadAllText(dir.FinalFile).Trim()}; {dir.Path}");
        return 0;
    }

    /// <summary>The scorer before training: another run's (a supervised one becomes meta's start by its token
    /// head, see <see cref="SpanScorer.tokenHeadFromSpanHeads"/>), one on the language model's encoder, or a
    /// small one of its own.</summary>
    private static Scorer FreshScorer(LearnPolicyOptions o, StageEnvironment env, ITokenizer vocab)
    {
        var seed = (long)(o.Seed & 0x7FFFFFFF);
        if (o.Init is not null)
        {
            var init = Scorer.Load(Path.Combine(o.Init, Scorer.FileName), env.Device).Scorer;
            return init.Kind == "supervised" && o.Kind == "meta"
                ? init with { Kind = o.Kind, Parameters = SpanScorer.tokenHeadFromSpanHeads(init.Parameters) }
                : init with { Kind = o.Kind };
        }
        if (o.Encoder == "lm")
        {
            var lm = ModelState.FromModelDirectory(o.From, env.Device);
            var c = SpanScorer.configFrom(lm.Config);
            return new Scorer(c, SpanScorer.initFrom(lm.Parameters, seed, env.Device, c), o.Kind, "lm");
        }
        var config = SpanScorer.config(vocab.Specials.VocabSize, vocab.Specials.Pad, vocab.Specials.Eos);
        return new Scorer(config, SpanScorer.init(config, seed, env.Device), o.Kind);
    }
}
