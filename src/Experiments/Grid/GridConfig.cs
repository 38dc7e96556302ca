using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Masking.Experiments.Grid;

/// <summary>General pre-training: the model, its vocabulary and corpus.</summary>
public sealed record PretrainSection
{
    public int Steps { get; init; } = 1500;
    public double Lr { get; init; } = 1e-3;
    public string Corpus { get; init; } = "world-background";
    public string Policy { get; init; } = "orig";
    /// <summary>This stage's own target length (null: the grid's <c>max_target_length</c>); a full-sequence target
    /// is the whole passage, so it needs room for all of it.</summary>
    public int? MaxTargetLength { get; init; }
}

/// <summary>A learned policy trained on the way: <c>masking learn-policy</c> from the pre-trained model.</summary>
public sealed record LearnedPolicySection
{
    public required string Name { get; init; }
    /// <summary>supervised or meta.</summary>
    public required string Kind { get; init; }
    public required string Task { get; init; }
    public int Steps { get; init; } = 600;
    public double Lr { get; init; } = 1e-3;
    public double InnerLr { get; init; } = 1e-2;
    /// <summary>How many times the meta-objective unrolls its pair of inner steps (MLM, then task).</summary>
    public int InnerSteps { get; init; } = 1;
    public double Budget { get; init; } = 0.15;
    public string MetaGradient { get; init; } = "first-order";
    /// <summary>Another learned policy's name whose scorer initialises this one.</summary>
    public string? Init { get; init; }
    public int EvalEvery { get; init; } = 100;
    /// <summary>lm: the scorer starts from the pre-trained model's encoder (embeddings frozen unless
    /// train_embeddings); scratch: a small encoder of its own.</summary>
    public string Encoder { get; init; } = "lm";
    public bool TrainEmbeddings { get; init; }
}

/// <summary>One arm: the policy of intermediate pre-training (none: fine-tune the pre-trained model directly).</summary>
public sealed record ArmSection
{
    public required string Name { get; init; }
    /// <summary>A policy spec (orig, rand, ssm, scored:budget=0.15, …); null for the no-IPT baseline.</summary>
    public string? Policy { get; init; }
    /// <summary>The learned policy (by name) whose scorer drives a <c>scored</c> policy.</summary>
    public string? Scorer { get; init; }
    /// <summary>Set on the arms a sweep expands into: the report plots them against the knob's value.</summary>
    public ArmSweep? Sweep { get; init; }
}

/// <summary>
/// One knob of a named policy swept over values (masking rate, span length: Wettig et al., EACL 2023). It expands
/// into one arm per value, named PREFIX-KNOBVALUE (<c>rand-p0.3</c>), whose policy is the base spec with the knob
/// set (<c>rand:p=0.3</c>).
/// </summary>
public sealed record SweepSection
{
    /// <summary>A named policy with any other knobs it keeps: <c>rand</c>, <c>rand:unit=word</c>, <c>t5</c>.</summary>
    public required string Policy { get; init; }
    public required string Knob { get; init; }
    public required IReadOnlyList<double> Values { get; init; }
    /// <summary>The arms' name prefix; the policy's name by default.</summary>
    public string? Name { get; init; }
    public string? Scorer { get; init; }
}

/// <summary>Which sweep an arm comes from, and its knob's value there.</summary>
public sealed record ArmSweep(string Sweep, string Knob, double Value);

/// <summary>Optimisation settings a stage may set; null keeps <see cref="Training.RunConfig"/>'s default.</summary>
public abstract record OptimisationSection
{
    /// <summary>Linear warm-up over this fraction of the steps, then linear decay.</summary>
    public double? WarmupFraction { get; init; }
    public double? WeightDecay { get; init; }
    /// <summary>Gradient clipping: the largest global gradient norm.</summary>
    public double? ClipNorm { get; init; }
    public double? LabelSmoothing { get; init; }

    public Training.RunConfig ApplyTo(Training.RunConfig run) => run with
    {
        WarmupFraction = WarmupFraction ?? run.WarmupFraction, WeightDecay = WeightDecay ?? run.WeightDecay,
        ClipNorm = ClipNorm ?? run.ClipNorm, LabelSmoothing = LabelSmoothing ?? run.LabelSmoothing,
    };

    public string? Problem(string section) =>
        WarmupFraction is < 0 or > 1 ? $"{section}.warmup_fraction: expected a number in [0, 1]"
        : WeightDecay < 0 ? $"{section}.weight_decay: expected 0 or more"
        : ClipNorm <= 0 ? $"{section}.clip_norm: expected more than 0"
        : LabelSmoothing is < 0 or >= 1 ? $"{section}.label_smoothing: expected a number in [0, 1)"
        : null;
}

public sealed record IntermediateSection : OptimisationSection
{
    public int Steps { get; init; } = 600;
    public double Lr { get; init; } = 1e-3;
    public string Corpus { get; init; } = "world-target";
    /// <summary>This stage's own target length (null: the grid's <c>max_target_length</c>).</summary>
    public int? MaxTargetLength { get; init; }
}

public sealed record FinetuneSection : OptimisationSection
{
    public int Steps { get; init; } = 400;
    /// <summary>Fine-tuning's own batch size; null: the grid's <c>batch_size</c>.</summary>
    public int? BatchSize { get; init; }
    public double Lr { get; init; } = 5e-4;
    public int EvalEvery { get; init; } = 100;
    public int Patience { get; init; } = 3;
    /// <summary>Learning efficiency: extra cells fine-tuned on these fractions of the training data.</summary>
    public IReadOnlyList<double> Fractions { get; init; } = [];
    /// <summary>The tasks the fraction cells run on (all tasks when empty).</summary>
    public IReadOnlyList<string> FractionTasks { get; init; } = [];
    /// <summary>The arms that get fraction cells (all arms when empty).</summary>
    public IReadOnlyList<string> FractionArms { get; init; } = [];
    /// <summary>Seeds of the fraction cells (the first N seeds).</summary>
    public int FractionSeeds { get; init; } = 1;
    /// <summary>Quick runs on real tasks: the first N training examples only (null: all).</summary>
    public int? MaxTrainExamples { get; init; }
    /// <summary>Early stopping on the first N dev examples only (null: all).</summary>
    public int? MaxDevExamples { get; init; }
    /// <summary>Per-task target lengths for tasks with long outputs (the others: the grid's <c>max_target_length</c>).</summary>
    public IReadOnlyDictionary<string, int> MaxTargetLengths { get; init; } = new Dictionary<string, int>();

    public int TargetLengthFor(string task, int otherwise) => MaxTargetLengths.TryGetValue(task, out var n) ? n : otherwise;
}

public sealed record EvaluationSection
{
    public string Split { get; init; } = "test";
    public int Beam { get; init; } = 1;
    /// <summary>Questions with options, on dev during fine-tuning and on the evaluation split: rank (each option
    /// scored by the model's likelihood) or generate (free text compared with the gold option).</summary>
    public string Choice { get; init; } = "rank";
    /// <summary>Rank classification's score: mean log-probability per token, or the sum.</summary>
    public string ChoiceNormalisation { get; init; } = "mean";
    /// <summary>Quick runs on real tasks: the first N examples of the split only (null: all).</summary>
    public int? MaxExamples { get; init; }
}

/// <summary>
/// A whole experiment as plain data (JSON, snake_case): general pre-training → learned policies → intermediate
/// pre-training per arm → fine-tuning per arm × task × seed → test evaluation → analyses and report. The
/// policy is the only thing that differs between arms.
/// </summary>
public sealed record GridConfig
{
    public required string Name { get; init; }
    public string Model { get; init; } = "tiny";
    /// <summary>A model to start from instead of general pre-training: a Hugging Face BART directory (for example
    /// facebook/bart-base) or a finished run, relative to the directory the grid runs from. Its config.json gives
    /// the model and its tokenizer comes with it, so <c>model</c>, <c>vocab_size</c> and <c>pretrain</c> are unused.</summary>
    public string? Init { get; init; }
    public int VocabSize { get; init; } = 2000;
    public int BatchSize { get; init; } = 32;
    public int MaxSourceLength { get; init; } = 96;
    public int MaxTargetLength { get; init; } = 24;
    public PretrainSection Pretrain { get; init; } = new();
    public IReadOnlyList<LearnedPolicySection> LearnedPolicies { get; init; } = [];
    public required IReadOnlyList<ArmSection> Arms { get; init; }
    /// <summary>Knob sweeps, expanded into <see cref="Arms"/> when the config is loaded (a frozen grid.json holds
    /// the expanded arms and no sweeps).</summary>
    public IReadOnlyList<SweepSection> Sweeps { get; init; } = [];
    public IntermediateSection Intermediate { get; init; } = new();
    public required IReadOnlyList<string> Tasks { get; init; }
    public FinetuneSection Finetune { get; init; } = new();
    public int Seeds { get; init; } = 3;
    /// <summary>Intermediate pre-training runs per arm (seeds 0 … n − 1); fine-tuning seed s starts from IPT run
    /// ((s − 1) mod n) + 1.</summary>
    public int IptSeeds { get; init; } = 1;
    public EvaluationSection Evaluation { get; init; } = new();
    /// <summary>Cells run at once by the local backend; each gets <c>threads</c> threads.</summary>
    public int Parallel { get; init; } = 2;
    public int Threads { get; init; } = 1;
    /// <summary>How many times a cell that died of a signal (a native crash, an out-of-memory kill) is run again
    /// before the grid stops; it resumes from its last checkpoint, so a retried cell ends as an uninterrupted one.</summary>
    public int Retries { get; init; } = 1;
    /// <summary>cpu or cuda.</summary>
    public string Device { get; init; } = "cpu";
    /// <summary>Sentences of the IPT corpus masked by each policy for the POS and frequency analyses.</summary>
    public int AnalysisSentences { get; init; } = 2000;
    /// <summary>Slurm resources per cell (the slurm backend).</summary>
    public SlurmSection Slurm { get; init; } = new();

    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        WriteIndented = true,
        MaxDepth = 64,
        // "model": null is refused for a field that is not nullable (elements of lists are checked in Problem).
        RespectNullableAnnotations = true,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Options);

    /// <summary>A config this program wrote (OUT/grid.json); null when it does not parse.</summary>
    public static GridConfig? FromJson(string json)
    {
        try { return JsonSerializer.Deserialize<GridConfig>(json, Options); }
        catch (JsonException) { return null; }
    }

    /// <summary>Reads and checks a config file; bad input is a <see cref="InputError"/> naming file and line.</summary>
    public static GridConfig Load(string path)
    {
        if (!File.Exists(path)) throw new InputError($"{path}:0: expected a grid config file (JSON)");
        var text = File.ReadAllText(path);
        var lines = ConfigLines.Read(path, text);
        GridConfig? config;
        try
        {
            config = JsonSerializer.Deserialize<GridConfig>(text, Options);
        }
        catch (JsonException e)
        {
            throw new InputError($"{path}:{(e.LineNumber ?? 0) + 1}: {ConfigLines.Explain(e)}");
        }
        if (config is null) throw new InputError($"{path}:1: expected a JSON object");
        var (expanded, sweepProblem) = config.ExpandSweeps();
        if (sweepProblem is not null) throw new InputError($"{path}:{lines.Of(ConfigLines.FieldOf(sweepProblem, _ => []))}: {sweepProblem}");
        config = expanded;
        var problem = config.Problem();
        if (problem is null) return config;
        var field = ConfigLines.FieldOf(problem, list => list == "arms"
            ? config.Arms.Select(a => a.Name).ToList()
            : config.LearnedPolicies.Select(p => p.Name).ToList());
        throw new InputError($"{path}:{lines.Of(field)}: {problem}");
    }

    /// <summary>The config with every sweep turned into arms (each value checked against its knob's range), and no
    /// sweeps left; or the first problem, naming sweeps[i] and the field.</summary>
    public (GridConfig Config, string? Problem) ExpandSweeps()
    {
        var arms = new List<ArmSection>(Arms);
        for (var i = 0; i < Sweeps.Count; i++)
        {
            var sweep = Sweeps[i];
            if (sweep is null) return (this, $"sweeps[{i}]: expected an object, found null");
            var parsed = Masking.Policies.PolicySpecModule.parse(sweep.Policy);
            if (parsed.IsError) return (this, $"sweeps[{i}].policy: {parsed.ErrorValue}");
            if (parsed.ResultValue is not Masking.Policies.PolicySpec.NamedSpec named)
                return (this, $"sweeps[{i}].policy: expected a named policy with its knobs (rand, rand:unit=word), not a combination");
            if (Masking.Policies.Named.tryFind(named.name)?.Value is not { } info)
                return (this, $"sweeps[{i}].policy: unknown policy '{named.name}'; known: {string.Join(", ", Masking.Policies.Named.names)}");
            var knob = info.Knobs.FirstOrDefault(k => k.Name == sweep.Knob || k.Aliases.Contains(sweep.Knob));
            if (knob is null)
                return (this, $"sweeps[{i}].knob: policy '{info.Name}' has no knob '{sweep.Knob}'; its knobs: {string.Join(", ", info.Knobs.Select(k => k.Name))}");
            if (named.knobs.Any(k => k.Item1 == knob.Name || knob.Aliases.Contains(k.Item1)))
                return (this, $"sweeps[{i}].policy: sets the swept knob '{knob.Name}' itself; expected it only in knob and values");
            if (sweep.Values.Count == 0) return (this, $"sweeps[{i}].values: expected at least one value");
            if (sweep.Values.GroupBy(v => v).FirstOrDefault(g => g.Count() > 1) is { } twice)
                return (this, $"sweeps[{i}].values: expected each value once, found {twice.Key.ToString(CultureInfo.InvariantCulture)} twice");
            var prefix = sweep.Name ?? info.Name;
            for (var j = 0; j < sweep.Values.Count; j++)
            {
                var value = sweep.Values[j];
                var check = knob.Check.Invoke(Masking.Policies.KnobValue.NewNumber(value));
                if (check.IsError) return (this, $"sweeps[{i}].values[{j}]: knob '{knob.Name}' of policy '{info.Name}' {check.ErrorValue}");
                var knobs = Microsoft.FSharp.Collections.ListModule.OfSeq(named.knobs.Append(Tuple.Create(knob.Name, check.ResultValue)));
                arms.Add(new ArmSection
                {
                    Name = $"{prefix}-{knob.Name}{GridPlan.FractionLabel(value)}",
                    Policy = Masking.Policies.PolicySpecModule.format(Masking.Policies.PolicySpec.NewNamedSpec(info.Name, knobs)),
                    Scorer = sweep.Scorer,
                    Sweep = new ArmSweep(prefix, knob.Name, value),
                });
            }
        }
        return (this with { Arms = arms, Sweeps = [] }, null);
    }

    /// <summary>Every number against the range the command line gives the same setting (0 steps, a batch of -1 and
    /// the like would otherwise fail inside a cell, or divide by zero).</summary>
    private string? Ranges()
    {
        var least = new List<(string Field, double Value, double Least)>
        {
            ("batch_size", BatchSize, 1), ("max_source_length", MaxSourceLength, 3), ("max_target_length", MaxTargetLength, 2),
            ("intermediate.steps", Intermediate.Steps, 1), ("intermediate.lr", Intermediate.Lr, 0),
            ("finetune.steps", Finetune.Steps, 1), ("finetune.eval_every", Finetune.EvalEvery, 1), ("finetune.patience", Finetune.Patience, 1),
            ("finetune.lr", Finetune.Lr, 0), ("finetune.fraction_seeds", Finetune.FractionSeeds, 1),
            ("evaluation.beam", Evaluation.Beam, 1), ("analysis_sentences", AnalysisSentences, 0),
        };
        if (Init is null) least.AddRange([("vocab_size", VocabSize, 400), ("pretrain.steps", Pretrain.Steps, 1), ("pretrain.lr", Pretrain.Lr, 0)]);
        if (Finetune.BatchSize is { } finetuneBatch) least.Add(("finetune.batch_size", finetuneBatch, 1));
        for (var i = 0; i < LearnedPolicies.Count; i++)
        {
            var p = LearnedPolicies[i];
            least.AddRange([($"learned_policies[{i}].eval_every", p.EvalEvery, 1), ($"learned_policies[{i}].lr", p.Lr, 0), ($"learned_policies[{i}].inner_lr", p.InnerLr, 0)]);
            if (p.Budget is < 0 or > 1) return $"learned_policies[{i}].budget: expected a number in [0, 1], got {p.Budget}";
        }
        foreach (var (field, value, min) in least)
            if (!(value >= min)) return $"{field}: expected at least {min}, got {value}";
        if (Init is null && VocabSize > 262_144) return $"vocab_size: expected at most 262144, got {VocabSize}";
        return null;
    }

    /// <summary>What is wrong with the config, or null.</summary>
    public string? Problem()
    {
        if (Arms.Count == 0 || Arms.Any(a => a is null)) return "arms: expected at least one arm, and no null";
        if (Tasks.Count == 0 || Tasks.Any(t => t is null)) return "tasks: expected at least one task name, and no null";
        if (LearnedPolicies.Any(p => p is null)) return "learned_policies: expected objects, found null";
        if (Ranges() is { } outOfRange) return outOfRange;
        if (Seeds < 1) return "seeds: expected at least 1";
        if (IptSeeds < 1) return "ipt_seeds: expected at least 1";
        if (Parallel < 1 || Threads < 1) return "parallel and threads: expected at least 1";
        if (Retries < 0) return "retries: expected 0 or more";
        if (Device is not ("cpu" or "cuda")) return $"device: expected cpu or cuda, got '{Device}'";
        if (Arms.GroupBy(a => a.Name).FirstOrDefault(g => g.Count() > 1) is { } dup) return $"arms: the name '{dup.Key}' is used twice";
        var learned = LearnedPolicies.Select(p => p.Name).ToHashSet();
        if (LearnedPolicies.GroupBy(p => p.Name).FirstOrDefault(g => g.Count() > 1) is { } twice)
            return $"learned_policies: '{twice.Key}': name used twice";
        foreach (var p in LearnedPolicies)
        {
            if (p.Name.Any(c => !(char.IsLetterOrDigit(c) || c is '-' or '_' or '.')))
                return $"learned_policies: '{p.Name}': name expected letters, digits, '-', '_' or '.' (it names directories)";
            if (p.Kind is not ("supervised" or "meta")) return $"learned_policies: '{p.Name}': kind expected supervised or meta, got '{p.Kind}'";
            // A meta policy with no step is the control arm: its initialisation, deployed as meta is.
            var leastSteps = p.Kind == "meta" ? 0 : 1;
            if (p.Steps < leastSteps) return $"learned_policies: '{p.Name}': steps expected at least {leastSteps}, got {p.Steps}";
            if (p.InnerSteps < 1) return $"learned_policies: '{p.Name}': inner_steps expected at least 1, got {p.InnerSteps}";
            if (p.Encoder is not ("lm" or "scratch")) return $"learned_policies: '{p.Name}': encoder expected lm or scratch, got '{p.Encoder}'";
            if (p.Init is not null && !learned.Contains(p.Init)) return $"learned_policies: '{p.Name}': init names no learned policy ('{p.Init}')";
            if (Masking.Tasks.Registry.find(p.Task).IsError) return $"learned_policies: '{p.Name}': unknown task '{p.Task}'";
        }
        // init chains must end: in a → b → a each waits for the other, and no cell of the chain would ever start.
        var initOf = LearnedPolicies.ToDictionary(p => p.Name, p => p.Init);
        foreach (var p in LearnedPolicies)
        {
            var chain = new List<string> { p.Name };
            for (var next = p.Init; next is not null && initOf.ContainsKey(next); next = initOf[next])
            {
                if (chain.Contains(next))
                    return $"learned_policies: '{p.Name}': init goes round in a cycle ({string.Join(" → ", chain.Append(next))}); expected a chain that ends in a policy without init";
                chain.Add(next);
            }
        }
        foreach (var arm in Arms)
        {
            if (arm.Name.Any(c => !(char.IsLetterOrDigit(c) || c is '-' or '_' or '.')))
                return $"arms: '{arm.Name}': expected letters, digits, '-', '_' or '.' (it names directories)";
            if (arm.Scorer is not null && !learned.Contains(arm.Scorer)) return $"arms: '{arm.Name}': scorer names no learned policy ('{arm.Scorer}')";
            if (arm.Policy is not null && Masking.Policies.PolicySpecModule.parse(arm.Policy) is { IsError: true } bad)
                return $"arms: '{arm.Name}': {bad.ErrorValue}";
        }
        foreach (var arm in Finetune.FractionArms)
            if (Arms.All(a => a.Name != arm)) return $"finetune.fraction_arms: no arm '{arm}'";
        foreach (var task in Tasks.Concat(Finetune.FractionTasks))
            if (Masking.Tasks.Registry.find(task).IsError) return $"tasks: unknown task '{task}'";
        if (Finetune.Fractions.Any(f => f <= 0 || f > 1)) return "finetune.fractions: expected numbers in (0, 1]";
        if (Finetune.MaxTrainExamples < 1 || Finetune.MaxDevExamples < 1) return "finetune.max_train_examples and max_dev_examples: expected at least 1";
        if (Evaluation.MaxExamples < 1) return "evaluation.max_examples: expected at least 1";
        foreach (var (task, length) in Finetune.MaxTargetLengths)
        {
            if (!Tasks.Contains(task)) return $"finetune.max_target_lengths: '{task}' is not one of the grid's tasks";
            if (length < 2) return $"finetune.max_target_lengths: '{task}': expected at least 2, got {length}";
        }
        if (Pretrain.MaxTargetLength < 2 || Intermediate.MaxTargetLength < 2) return "pretrain.max_target_length and intermediate.max_target_length: expected at least 2";
        if (Evaluation.Choice is not ("rank" or "generate")) return $"evaluation.choice: expected rank or generate, got '{Evaluation.Choice}'";
        if (Evaluation.ChoiceNormalisation is not ("mean" or "sum")) return $"evaluation.choice_normalisation: expected mean or sum, got '{Evaluation.ChoiceNormalisation}'";
        if ((Intermediate.Problem("intermediate") ?? Finetune.Problem("finetune")) is { } optimisation) return optimisation;
        return null;
    }
}

/// <summary>What each Slurm array task asks for.</summary>
public sealed record SlurmSection
{
    /// <summary>Empty: the cluster's default partition.</summary>
    public string Partition { get; init; } = "";
    public string Time { get; init; } = "04:00:00";
    public int CpusPerTask { get; init; } = 2;
    public string Memory { get; init; } = "8G";
    /// <summary>e.g. gpu:1; empty for CPU-only cells.</summary>
    public string Gres { get; init; } = "";
}
