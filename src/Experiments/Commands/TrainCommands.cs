using System.CommandLine;
using Masking.Experiments.Cli;
using Masking.Experiments.Training;
using Masking.Model;

namespace Masking.Experiments.Commands;

/// <summary>
/// <c>masking pretrain | intermediate | finetune | evaluate | learn-policy</c>. Each stage writes a run directory
/// (--out); running the same command again resumes an interrupted run from its last checkpoint. Every option is
/// checked against its range while the command line is parsed, before a run directory is written.
/// </summary>
public static class TrainCommands
{
    private static readonly RunConfig Defaults = new() { Stage = "" };

    /// <summary>Past these the model or the batch no longer fits any machine this runs on.</summary>
    private const int MaxLength = 16_384;
    private const int MaxVocabSize = 262_144;

    /// <summary>The options all three training stages share, with the stage's defaults.</summary>
    private sealed record Training(
        Option<int> Steps, Option<int> BatchSize, Option<double> LearningRate, Option<double> Warmup, Option<double> WeightDecay,
        Option<double> LabelSmoothing, Option<double> Clip, Option<int> MaxSourceLength, Option<int> MaxTargetLength, Option<ulong> Seed,
        Option<int> CheckpointEvery, Option<int> LogEvery, Option<string> Out, CommonOptions.Compute Compute)
    {
        public static Training AddTo(Command command, int steps, double learningRate)
        {
            Option[] options =
            [
                Opts.Int("--steps", steps, "optimisation steps", min: 1, max: 100_000_000),
                Opts.Int("--batch-size", Defaults.BatchSize, "examples a step", min: 1, max: 65_536),
                Opts.Double("--lr", learningRate, "AdamW's peak learning rate", min: 0, max: 10),
                Opts.Double("--warmup", Defaults.WarmupFraction, "the share of steps the learning rate warms up over", min: 0, max: 1),
                Opts.Double("--weight-decay", Defaults.WeightDecay, "AdamW's decoupled weight decay", min: 0, max: 10),
                Opts.Double("--label-smoothing", Defaults.LabelSmoothing, "label smoothing of the cross-entropy", min: 0, max: 1, maxExclusive: true),
                Opts.Double("--clip", Defaults.ClipNorm, "the gradient norm is clipped to this (0: no clipping)", min: 0),
                Opts.Int("--max-source-length", Defaults.MaxSourceLength, "tokens of a source, longer ones cut", min: 3, max: MaxLength),
                Opts.Int("--max-target-length", Defaults.MaxTargetLength, "tokens of a target, longer ones cut", min: 2, max: MaxLength),
                Opts.Seed(),
                Opts.Int("--checkpoint-every", Defaults.CheckpointEvery, "steps between checkpoints", min: 1),
                Opts.Int("--log-every", Defaults.LogEvery, "steps between lines of metrics.jsonl", min: 1),
            ];
            foreach (var o in options) command.Options.Add(o);
            var outDir = Opts.Required(command, "--out", "DIR", "the run directory to write");
            Option<T> At<T>(int i) => (Option<T>)options[i];
            return new Training(At<int>(0), At<int>(1), At<double>(2), At<double>(3), At<double>(4), At<double>(5), At<double>(6), At<int>(7),
                At<int>(8), At<ulong>(9), At<int>(10), At<int>(11), outDir, CommonOptions.Compute.AddTo(command));
        }

        public RunConfig Apply(RunConfig run, ParseResult p) => run with
        {
            Steps = p.GetValue(Steps),
            BatchSize = p.GetValue(BatchSize),
            LearningRate = p.GetValue(LearningRate),
            WarmupFraction = p.GetValue(Warmup),
            WeightDecay = p.GetValue(WeightDecay),
            LabelSmoothing = p.GetValue(LabelSmoothing),
            ClipNorm = p.GetValue(Clip),
            MaxSourceLength = p.GetValue(MaxSourceLength),
            MaxTargetLength = p.GetValue(MaxTargetLength),
            Seed = p.GetValue(Seed),
            CheckpointEvery = p.GetValue(CheckpointEvery),
            LogEvery = p.GetValue(LogEvery),
        };

        /// <summary>Runs a stage in its run directory, which is unlocked when the stage returns.</summary>
        public int Run(ParseResult p, TextWriter stderr, Func<RunDirectory, StageEnvironment, int> stage)
        {
            var env = Compute.Read(p, stderr);
            using var dir = new RunDirectory(p.GetValue(Out)!);
            return stage(dir, env);
        }
    }

    public static Command Pretrain(TextWriter stderr)
    {
        var command = new Command("pretrain", "train a language model from scratch: a byte-level BPE vocabulary, then denoising");
        var preset = Opts.Choice("--preset", "the model's size", Defaults.Preset, [.. ModelConfigModule.presets.Select(p => p.Item1)]);
        var preNorm = Opts.Flag("--pre-norm", "layer norm before each sublayer (pre-norm) instead of after it");
        var dropout = Opts.OptionalDouble("--dropout", "dropout probability (default: the preset's)", min: 0, max: 1, maxExclusive: true);
        var corpus = Corpus(command, "world-background");
        var policy = Opts.Text("--policy", "SPEC", "the denoising policy", "orig");
        var vocabSize = Opts.Int("--vocab-size", Defaults.VocabSize, "the BPE vocabulary learned from the corpus", min: 400, max: MaxVocabSize);
        foreach (var o in new Option[] { preset, preNorm, dropout, policy, vocabSize }) command.Options.Add(o);
        var training = Training.AddTo(command, steps: Defaults.Steps, Defaults.LearningRate);
        command.SetAction(p => training.Run(p, stderr, (dir, env) => Stages.Pretrain(training.Apply(new RunConfig
        {
            Stage = "pretrain",
            Preset = p.GetValue(preset)!,
            PreNorm = p.GetValue(preNorm),
            Dropout = p.GetValue(dropout),
            Corpus = CorpusValue(p.GetValue(corpus)!),
            Policy = p.GetValue(policy),
            VocabSize = p.GetValue(vocabSize),
            EvalEvery = 0,
            Patience = 0,
        }, p), dir, env)));
        return command;
    }

    public static Command Intermediate(TextWriter stderr)
    {
        var command = new Command("intermediate", "intermediate pre-training: continue denoising a model on a corpus with a masking policy");
        var from = From(command);
        var policy = Opts.Required(command, "--policy", "SPEC", "the masking policy; see `masking policies`");
        var corpus = Corpus(command, "world-target");
        var scorer = Opts.Text("--scorer", "LEARN_POLICY_RUN", "a learn-policy run whose span scorer drives the `scored` policy");
        command.Options.Add(scorer);
        var training = Training.AddTo(command, steps: Defaults.Steps, Defaults.LearningRate);
        command.SetAction(p => training.Run(p, stderr, (dir, env) => Stages.Intermediate(training.Apply(new RunConfig
        {
            Stage = "intermediate",
            From = Path.GetFullPath(p.GetValue(from)!),
            Preset = "inherited",
            Corpus = CorpusValue(p.GetValue(corpus)!),
            Policy = p.GetValue(policy),
            Scorer = p.GetValue(scorer) is { } s ? Path.GetFullPath(s) : null,
            VocabSize = 0,
            EvalEvery = 0,
            Patience = 0,
        }, p), dir, env)));
        return command;
    }

    public static Command Finetune(TextWriter stderr)
    {
        var command = new Command("finetune", "fine-tune on a task, keeping the checkpoint that scores best on dev");
        var from = From(command);
        var task = Opts.Required(command, "--task", "TASK", "the task to fine-tune on");
        var trainFraction = Opts.Double("--train-fraction", 1.0, "the share of the training set used", min: 1e-6, max: 1);
        var maxTrain = Opts.OptionalInt("--max-train-examples", "at most this many training examples", min: 1);
        var maxDev = Opts.OptionalInt("--max-dev-examples", "at most this many dev examples in each evaluation", min: 1);
        var evalEvery = Opts.Int("--eval-every", Defaults.EvalEvery, "steps between dev evaluations", min: 1);
        var patience = Opts.Int("--patience", Defaults.Patience, "stop after this many evaluations without a better dev score", min: 1);
        var choice = ChoiceOption(Defaults.Choice);
        var normalisation = NormalisationOption(Defaults.ChoiceNormalisation);
        foreach (var o in new Option[] { trainFraction, maxTrain, maxDev, evalEvery, patience, choice, normalisation }) command.Options.Add(o);
        var training = Training.AddTo(command, steps: 2000, learningRate: 3e-4);
        command.SetAction(p => training.Run(p, stderr, (dir, env) => Stages.Finetune(training.Apply(new RunConfig
        {
            Stage = "finetune",
            From = Path.GetFullPath(p.GetValue(from)!),
            Preset = "inherited",
            Corpus = "",
            Task = p.GetValue(task),
            TrainFraction = p.GetValue(trainFraction),
            MaxTrainExamples = p.GetValue(maxTrain),
            MaxDevExamples = p.GetValue(maxDev),
            EvalEvery = p.GetValue(evalEvery),
            Patience = p.GetValue(patience),
            Choice = p.GetValue(choice)!,
            ChoiceNormalisation = p.GetValue(normalisation)!,
            VocabSize = 0,
        }, p), dir, env)));
        return command;
    }

    public static Command Evaluate(TextWriter stderr)
    {
        var command = new Command("evaluate",
            "a finetune run's model on a split (or, with --task, a Hugging Face BART directory that is not a finetune run): predictions and scores");
        var from = Opts.Required(command, "--from", "RUN|HF_DIR", "a finetune run directory (or a Hugging Face BART directory with --task)");
        var split = Opts.Choice("--split", "the split to evaluate", "test", "train", "dev", "test");
        var beam = Opts.Int("--beam", 4, "beams of the decoder", min: 1, max: 1024);
        var outDir = Opts.Text("--out", "DIR", "where to write predictions and scores (default: the run directory)");
        var maxExamples = Opts.OptionalInt("--max-examples", "at most this many examples", min: 1);
        var task = Opts.Text("--task", "TASK", "the task (for a model that is not a finetune run)");
        var maxSource = Opts.OptionalInt("--max-source-length", "tokens of a source (for a model that is not a finetune run)", min: 3, max: MaxLength);
        var maxTarget = Opts.OptionalInt("--max-target-length", "tokens of a target (for a model that is not a finetune run)", min: 2, max: MaxLength);
        var choice = ChoiceOption(null);
        var normalisation = NormalisationOption(null);
        foreach (var o in new Option[] { split, beam, outDir, maxExamples, task, maxSource, maxTarget, choice, normalisation }) command.Options.Add(o);
        var compute = CommonOptions.Compute.AddTo(command);
        command.SetAction(p =>
        {
            var env = compute.Read(p, stderr);
            return ModelEvaluation.Run(new ModelEvaluation.Options(p.GetValue(from)!, p.GetValue(split)!, p.GetValue(beam), p.GetValue(outDir),
                p.GetValue(maxExamples), p.GetValue(task), p.GetValue(maxSource), p.GetValue(maxTarget), p.GetValue(choice),
                p.GetValue(normalisation)), env);
        });
        return command;
    }

    /// <summary><c>masking learn-policy --kind supervised|meta --task TASK --from LM_RUN --out DIR</c>.</summary>
    public static Command LearnPolicy(TextWriter stderr)
    {
        var defaults = new LearnPolicyOptions { Kind = "supervised", Task = "", From = "" };
        var command = new Command("learn-policy",
            "learn a span scorer for the `scored` policy: with supervision (context, answer) or by meta-learning (context, question, answer); then intermediate --policy scored --scorer DIR");
        var kind = Opts.Require(command, Opts.Choice("--kind", "supervised or meta (required)", null, "supervised", "meta"), "supervised or meta");
        var task = Opts.Required(command, "--task", "TASK", "the task whose supervision the policy learns from");
        var from = Opts.Required(command, "--from", "RUN|HF_DIR", "a pretrain or intermediate run: its vocabulary (and, for meta, its model)");
        var outDir = Opts.Required(command, "--out", "DIR", "the run directory to write");
        var corpus = Corpus(command, defaults.Corpus);
        var steps = Opts.OptionalInt("--steps", "scorer updates (default: supervised 600, meta 200; meta takes 0)", min: 0, max: 100_000_000);
        var lr = Opts.Double("--lr", defaults.LearningRate, "the scorer's learning rate", min: 0, max: 10);
        var innerLr = Opts.Double("--inner-lr", defaults.InnerLearningRate, "meta: the inner steps' learning rate", min: 0, max: 10);
        var innerSteps = Opts.Int("--inner-steps", defaults.InnerSteps, "meta: how many (MLM, task) pairs of inner steps are unrolled", min: 1, max: 100);
        var budget = Opts.Double("--budget", defaults.Budget, "meta: the share of tokens the mask spends", min: 0, max: 1);
        var gradient = Opts.Choice("--meta-gradient", "meta: the exact (second-order) gradient or its first-order approximation", defaults.Gradient,
            "exact", "first-order");
        var trainAlong = Opts.Flag("--train-lm-along", "meta: the language model trains alongside the policy instead of being reset every meta-step");
        var init = Opts.Text("--init", "SCORER_RUN", "another learn-policy run whose scorer is the starting point");
        var evalEvery = Opts.Int("--eval-every", defaults.EvalEvery, "steps between dev evaluations", min: 1);
        var patience = Opts.Int("--patience", defaults.Patience, "stop after this many evaluations without a better dev score", min: 1);
        var seed = Opts.Seed();
        var encoder = Opts.Choice("--encoder", "lm: the language model's encoder (embeddings frozen); scratch: a small new one", defaults.Encoder,
            "lm", "scratch");
        var trainEmbeddings = Opts.Flag("--train-embeddings", "with --encoder lm: train its token embeddings too");
        foreach (var o in new Option[] { steps, lr, innerLr, innerSteps, budget, gradient, trainAlong, init, evalEvery, patience, seed, encoder, trainEmbeddings })
            command.Options.Add(o);
        command.Validators.Add(r =>
        {
            if (r.GetValue(kind) == "supervised" && r.GetValue(steps) == 0) r.AddError("--steps expects an integer ≥ 1 with --kind supervised, got '0'");
        });
        var compute = CommonOptions.Compute.AddTo(command);
        command.SetAction(p =>
        {
            var env = compute.Read(p, stderr);
            var k = p.GetValue(kind)!;
            var options = defaults with
            {
                Kind = k,
                Task = p.GetValue(task)!,
                From = p.GetValue(from)!,
                Corpus = CorpusValue(p.GetValue(corpus)!),
                Steps = p.GetValue(steps) ?? (k == "supervised" ? 600 : 200),
                LearningRate = p.GetValue(lr),
                InnerLearningRate = p.GetValue(innerLr),
                Budget = p.GetValue(budget),
                Gradient = p.GetValue(gradient)!,
                TrainAlong = p.GetValue(trainAlong),
                Init = p.GetValue(init) is { } i ? Path.GetFullPath(i) : null,
                EvalEvery = p.GetValue(evalEvery),
                Patience = p.GetValue(patience),
                Seed = p.GetValue(seed),
                Encoder = p.GetValue(encoder)!,
                TrainEmbeddings = p.GetValue(trainEmbeddings),
                InnerSteps = p.GetValue(innerSteps),
            };
            using var dir = new RunDirectory(p.GetValue(outDir)!);
            return PolicyLearning.Run(options, dir, env);
        });
        return command;
    }

    private static Option<string> From(Command command) =>
        Opts.Required(command, "--from", "RUN|HF_DIR", "the run directory this stage starts from (or a Hugging Face BART directory)");

    private static Option<string> Corpus(Command command, string defaultValue)
    {
        var option = Opts.Text("--corpus", "NAME|FILE",
            "world-background, world-target, wikitext:RELATIVE (a WikiText raw file under the data root) or a text file, one passage a line", defaultValue);
        command.Options.Add(option);
        return option;
    }

    private static string CorpusValue(string corpus) => Corpora.IsNamed(corpus) ? corpus : Path.GetFullPath(corpus);

    private static Option<string> ChoiceOption(string? defaultValue) =>
        Opts.Choice("--choice", "questions with options: rank every option by likelihood, or generate and compare", defaultValue, "rank", "generate");

    private static Option<string> NormalisationOption(string? defaultValue) =>
        Opts.Choice("--choice-normalisation", "rank's score: mean log-probability per target token, or their sum", defaultValue, "mean", "sum");
}
