using Masking.Experiments.Cli;
using Masking.Experiments.Training;
using TorchSharp;

namespace Masking.Experiments.Commands;

/// <summary>
/// <c>masking pretrain | intermediate | finetune | evaluate</c>. Each stage writes a run directory (--out);
/// running the same command again resumes an interrupted run from its last checkpoint.
/// </summary>
public static class TrainCommands
{
    public static int Run(string stage, Args args, TextWriter stderr)
    {
        var env = Environment(args, stderr);
        if (stage == "evaluate")
        {
            int? Optional(string name) => args.Optional(name) is not null ? args.Int(name, 0, min: 1) : null;
            var options = new ModelEvaluation.Options(
                args.Required("from", "a finetune run directory (or a Hugging Face BART directory with --task)"),
                args.Optional("split") ?? "test", args.Int("beam", 4, min: 1), args.Optional("out"), Optional("max-examples"),
                args.Optional("task"), Optional("max-source-length"), Optional("max-target-length"),
                Choice(args, "choice", "rank", "generate"), Choice(args, "choice-normalisation", "mean", "sum"));
            args.EnsureAllUsed("evaluate");
            return ModelEvaluation.Run(options, env);
        }

        var defaults = new RunConfig { Stage = stage };
        var run = new RunConfig
        {
            Stage = stage,
            From = stage == "pretrain" ? null : Path.GetFullPath(args.Required("from", "the run directory this stage starts from (or a Hugging Face BART directory)")),
            Preset = stage == "pretrain" ? args.Optional("preset") ?? "tiny" : "inherited",
            PreNorm = stage == "pretrain" && args.Optional("pre-norm") is not null,
            Dropout = stage == "pretrain" && args.Optional("dropout") is not null ? args.Double("dropout", 0.1, min: 0) : null,
            Corpus = stage == "finetune" ? "" : CorpusOption(args, stage),
            Policy = stage == "finetune" ? null : args.Optional("policy") ?? (stage == "pretrain" ? "orig" : throw new CliError("intermediate: expected --policy SPEC")),
            Task = stage == "finetune" ? args.Required("task", "the task to fine-tune on") : null,
            Scorer = stage == "intermediate" && args.Optional("scorer") is { } scorer ? Path.GetFullPath(scorer) : null,
            Steps = args.Int("steps", stage == "finetune" ? 2000 : 1000, min: 1),
            TrainFraction = stage == "finetune" ? args.Double("train-fraction", 1.0, min: 1e-6) : 1.0,
            MaxTrainExamples = stage == "finetune" && args.Optional("max-train-examples") is not null ? args.Int("max-train-examples", 0, min: 1) : null,
            MaxDevExamples = stage == "finetune" && args.Optional("max-dev-examples") is not null ? args.Int("max-dev-examples", 0, min: 1) : null,
            BatchSize = args.Int("batch-size", defaults.BatchSize, min: 1),
            LearningRate = args.Double("lr", stage == "finetune" ? 3e-4 : defaults.LearningRate, min: 0),
            WarmupFraction = args.Double("warmup", defaults.WarmupFraction, min: 0),
            WeightDecay = args.Double("weight-decay", defaults.WeightDecay, min: 0),
            LabelSmoothing = args.Double("label-smoothing", defaults.LabelSmoothing, min: 0),
            ClipNorm = args.Double("clip", defaults.ClipNorm, min: 0),
            MaxSourceLength = args.Int("max-source-length", defaults.MaxSourceLength, min: 3),
            MaxTargetLength = args.Int("max-target-length", defaults.MaxTargetLength, min: 2),
            VocabSize = stage == "pretrain" ? args.Int("vocab-size", defaults.VocabSize, min: 400) : 0,
            Seed = args.UInt64("seed", 0),
            CheckpointEvery = args.Int("checkpoint-every", defaults.CheckpointEvery, min: 1),
            LogEvery = args.Int("log-every", defaults.LogEvery, min: 1),
            EvalEvery = stage == "finetune" ? args.Int("eval-every", defaults.EvalEvery, min: 1) : 0,
            Patience = stage == "finetune" ? args.Int("patience", defaults.Patience, min: 1) : 0,
            Choice = stage == "finetune" ? Choice(args, "choice", "rank", "generate") ?? defaults.Choice : defaults.Choice,
            ChoiceNormalisation = stage == "finetune" ? Choice(args, "choice-normalisation", "mean", "sum") ?? defaults.ChoiceNormalisation : defaults.ChoiceNormalisation,
        };
        var dir = new RunDirectory(args.Required("out", "the run directory to write"));
        args.EnsureAllUsed(stage);
        return stage switch
        {
            "pretrain" => Stages.Pretrain(run, dir, env),
            "intermediate" => Stages.Intermediate(run, dir, env),
            _ => Stages.Finetune(run, dir, env),
        };
    }

    /// <summary><c>masking learn-policy --kind supervised|meta --task TASK --from LM_RUN --out DIR</c>.</summary>
    public static int LearnPolicy(Args args, TextWriter stderr)
    {
        var env = Environment(args, stderr);
        var kind = args.Required("kind", "supervised or meta");
        if (kind is not ("supervised" or "meta")) throw new CliError($"--kind: expected supervised or meta, got '{kind}'");
        var defaults = new LearnPolicyOptions { Kind = kind, Task = "", From = "" };
        var options = defaults with
        {
            Task = args.Required("task", "the task whose supervision the policy learns from"),
            From = args.Required("from", "a pretrain or intermediate run: its vocabulary (and, for meta, its model)"),
            Corpus = CorpusOption(args, "intermediate"),
            Steps = args.Int("steps", kind == "supervised" ? 600 : 200, min: kind == "meta" ? 0 : 1),
            LearningRate = args.Double("lr", defaults.LearningRate, min: 0),
            InnerLearningRate = args.Double("inner-lr", defaults.InnerLearningRate, min: 0),
            Budget = args.Double("budget", defaults.Budget, min: 0),
            Gradient = args.Optional("meta-gradient") ?? defaults.Gradient,
            TrainAlong = args.Optional("train-lm-along") is not null,
            Init = args.Optional("init") is { } init ? Path.GetFullPath(init) : null,
            EvalEvery = args.Int("eval-every", defaults.EvalEvery, min: 1),
            Patience = args.Int("patience", defaults.Patience, min: 1),
            Seed = args.UInt64("seed", 0),
            Encoder = args.Optional("encoder") ?? defaults.Encoder,
            TrainEmbeddings = args.Optional("train-embeddings") is not null,
            InnerSteps = args.Int("inner-steps", defaults.InnerSteps, min: 1),
        };
        if (options.Encoder is not ("scratch" or "lm")) throw new CliError($"--encoder: expected scratch or lm, got '{options.Encoder}'");
        if (options.Gradient is not ("exact" or "first-order")) throw new CliError($"--meta-gradient: expected exact or first-order, got '{options.Gradient}'");
        var dir = new RunDirectory(args.Required("out", "the run directory to write"));
        args.EnsureAllUsed("learn-policy");
        return PolicyLearning.Run(options, dir, env);
    }

    /// <summary>One of two words, or null when the option is not given.</summary>
    private static string? Choice(Args args, string name, string first, string second) =>
        args.Optional(name) switch
        {
            null => null,
            var v when v == first || v == second => v,
            var v => throw new CliError($"--{name}: expected {first} or {second}, got '{v}'"),
        };

    private static string CorpusOption(Args args, string stage)
    {
        var corpus = args.Optional("corpus") ?? (stage == "pretrain" ? "world-background" : "world-target");
        return Corpora.IsNamed(corpus) ? corpus : Path.GetFullPath(corpus);
    }

    /// <summary>--device cpu|cuda (cuda when available), --threads N, --data DIR.</summary>
    public static StageEnvironment Environment(Args args, TextWriter stderr)
    {
        var deviceName = args.Optional("device") ?? (torch.cuda.is_available() ? "cuda" : "cpu");
        if (deviceName is not ("cpu" or "cuda")) throw new CliError($"--device: expected cpu or cuda, got '{deviceName}'");
        if (deviceName == "cuda" && !torch.cuda.is_available()) throw new CliError("--device cuda: no CUDA device is available here");
        var threads = args.Int("threads", 0, min: 0);
        if (threads > 0) torch.set_num_threads(threads);
        var data = args.Optional("data");
        return new StageEnvironment(deviceName == "cuda" ? torch.CUDA : torch.CPU, stderr, !Console.IsErrorRedirected, data);
    }
}
