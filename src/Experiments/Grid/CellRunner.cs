using System.Text;
using System.Text.Json;
using Masking.Experiments.Training;
using Masking.Metrics;
using Masking.Tasks;

namespace Masking.Experiments.Grid;

/// <summary>One line of the results index: a finished fine-tuning cell's test score and dev curve.</summary>
public sealed record CellResult(string Cell, string Arm, string Task, int Seed, double Fraction, string Metric, double Score,
    IReadOnlyList<double[]> DevCurve);

/// <summary>
/// Runs one cell in this process (what <c>masking grid cell</c> does, locally or as a Slurm array task) and
/// appends a finished fine-tuning cell's result to the grid's index, <c>OUT/results.jsonl</c>.
/// </summary>
public static class CellRunner
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static string IndexFile(string outDir) => Path.Combine(outDir, "results.jsonl");
    public static string CellDir(string outDir, Cell cell) => Path.Combine(outDir, cell.Id);
    private static string EvalMetrics(GridConfig config, string outDir, Cell cell) =>
        Path.Combine(CellDir(outDir, cell), "eval-" + config.Evaluation.Split, "metrics.json");

    /// <summary>Finished: a preparatory cell has final.json; a fine-tuning cell is evaluated and in the index.</summary>
    public static bool IsFinished(GridConfig config, string outDir, Cell cell, IReadOnlySet<string> indexed) =>
        cell.IsResult
            ? File.Exists(EvalMetrics(config, outDir, cell)) && indexed.Contains(cell.Id)
            : File.Exists(Path.Combine(CellDir(outDir, cell), "final.json"));

    /// <summary>The model the arms start from: <c>init</c> (relative to the working directory), else OUT/pretrain.</summary>
    public static string StartingModel(GridConfig config, string outDir) =>
        config.Init is { } init ? Path.GetFullPath(init) : Path.Combine(outDir, "pretrain");

    public static int Run(GridConfig config, string outDir, Cell cell, StageEnvironment env)
    {
        string Dir(string id) => Path.Combine(outDir, id);
        // The model every arm starts from: the grid's init model, or its general pre-training.
        var start = StartingModel(config, outDir);
        RunConfig Base(string stage) => new()
        {
            Stage = stage, BatchSize = config.BatchSize, MaxSourceLength = config.MaxSourceLength, MaxTargetLength = config.MaxTargetLength,
            LogEvery = 10, CheckpointEvery = 50,
        };
        using var dir = new RunDirectory(CellDir(outDir, cell));
        switch (cell.Kind)
        {
            case CellKind.Pretrain:
                return Stages.Pretrain(Base("pretrain") with
                {
                    Preset = config.Model, Corpus = config.Pretrain.Corpus, Policy = config.Pretrain.Policy, Steps = config.Pretrain.Steps,
                    LearningRate = config.Pretrain.Lr, VocabSize = config.VocabSize,
                    MaxTargetLength = config.Pretrain.MaxTargetLength ?? config.MaxTargetLength,
                }, dir, env);
            case CellKind.LearnPolicy:
                var p = cell.Policy!;
                return PolicyLearning.Run(new LearnPolicyOptions
                {
                    Kind = p.Kind, Task = p.Task, From = start, Corpus = config.Intermediate.Corpus, Steps = p.Steps, LearningRate = p.Lr,
                    InnerLearningRate = p.InnerLr, InnerSteps = p.InnerSteps, Budget = p.Budget, Gradient = p.MetaGradient,
                    Init = p.Init is null ? null : Dir($"policy/{p.Init}"), EvalEvery = p.EvalEvery, Encoder = p.Encoder,
                    TrainEmbeddings = p.TrainEmbeddings,
                }, dir, env);
            case CellKind.Intermediate:
                var arm = config.Arms.Single(a => a.Name == cell.Arm);
                return Stages.Intermediate(config.Intermediate.ApplyTo(Base("intermediate")) with
                {
                    From = start, Corpus = config.Intermediate.Corpus, Policy = arm.Policy,
                    Scorer = arm.Scorer is null ? null : Dir($"policy/{arm.Scorer}"), Steps = config.Intermediate.Steps,
                    LearningRate = config.Intermediate.Lr, MaxTargetLength = config.Intermediate.MaxTargetLength ?? config.MaxTargetLength,
                    Seed = (ulong)(cell.Seed - 1),
                }, dir, env);
            default:
                var source = config.Arms.Single(a => a.Name == cell.Arm);
                var code = Stages.Finetune(config.Finetune.ApplyTo(Base("finetune")) with
                {
                    From = source.Policy is null ? start : Dir(GridPlan.IptCell(config, source.Name, GridPlan.IptSeedOf(config, cell.Seed))),
                    Task = cell.Task, Steps = config.Finetune.Steps,
                    EvalEvery = config.Finetune.EvalEvery, Patience = config.Finetune.Patience, LearningRate = config.Finetune.Lr,
                    Seed = (ulong)cell.Seed, TrainFraction = cell.Fraction, BatchSize = config.Finetune.BatchSize ?? config.BatchSize,
                    MaxTrainExamples = config.Finetune.MaxTrainExamples, MaxDevExamples = config.Finetune.MaxDevExamples,
                    Choice = config.Evaluation.Choice, ChoiceNormalisation = config.Evaluation.ChoiceNormalisation,
                    MaxTargetLength = config.Finetune.TargetLengthFor(cell.Task!, config.MaxTargetLength),
                }, dir, env);
                if (code != 0) return code;
                if (!File.Exists(EvalMetrics(config, outDir, cell)))
                {
                    code = ModelEvaluation.Run(new ModelEvaluation.Options(dir.Path, config.Evaluation.Split, config.Evaluation.Beam,
                        MaxExamples: config.Evaluation.MaxExamples), env);
                    if (code != 0) return code;
                }
                if (!ReadIndex(outDir).Any(r => r.Cell == cell.Id)) Append(outDir, Result(config, outDir, cell));
                return 0;
        }
    }

    private static CellResult Result(GridConfig config, string outDir, Cell cell)
    {
        var key = MetricModule.key(Registry.find(cell.Task!).ResultValue.Metrics.Head);
        using var doc = JsonDocument.Parse(File.ReadAllText(EvalMetrics(config, outDir, cell)));
        var curve = new List<double[]>();
        var metrics = Path.Combine(CellDir(outDir, cell), "metrics.jsonl");
        foreach (var line in File.ReadLines(metrics))
        {
            using var m = JsonDocument.Parse(line);
            if (m.RootElement.TryGetProperty("dev_" + key, out var dev))
                curve.Add([m.RootElement.GetProperty("step").GetDouble(), dev.GetDouble()]);
        }
        return new CellResult(cell.Id, cell.Arm!, cell.Task!, cell.Seed, cell.Fraction, key, doc.RootElement.GetProperty(key).GetDouble(), curve);
    }

    /// <summary>
    /// Appends one line while holding <c>results.jsonl.lock</c> exclusively (FileShare.None is an flock on Unix):
    /// .NET writes at its own cached offset, not with O_APPEND, so unlocked concurrent appends overwrite each
    /// other (a test with 400 parallel appends lost 61 lines). The lock is a separate file so that readers of
    /// the index never wait or fail. Writers wait their turn for at most a minute.
    /// </summary>
    public static void Append(string outDir, CellResult result)
    {
        var bytes = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(result, Json) + "\n");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            FileStream gate;
            try
            {
                gate = new FileStream(IndexFile(outDir) + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (clock.Elapsed.TotalSeconds < 60 && Directory.Exists(outDir))
            {
                Thread.Sleep(5 + Random.Shared.Next(20));
                continue;
            }
            using (gate)
            using (var stream = new FileStream(IndexFile(outDir), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite, 1, FileOptions.WriteThrough))
            {
                // A line torn by a crash is cut off before the next one is written, so that damage can only ever
                // be the last line (which readers skip) and never a line in the middle.
                stream.SetLength(WholeLinesLength(stream));
                stream.Seek(0, SeekOrigin.End);
                stream.Write(bytes);
            }
            return;
        }
    }

    /// <summary>The length of the stream's whole lines: up to and including its last newline.</summary>
    private static long WholeLinesLength(FileStream stream)
    {
        var length = stream.Length;
        var one = new byte[1];
        for (var at = length - 1; at >= 0; at--)
        {
            stream.Seek(at, SeekOrigin.Begin);
            if (stream.Read(one, 0, 1) == 1 && one[0] == (byte)'\n') return at + 1;
        }
        return 0;
    }

    /// <summary>Whether the index ends in a line without its newline: a crash, or a cell writing right now.</summary>
    public static bool HasTornLastLine(string outDir)
    {
        var path = IndexFile(outDir);
        if (!File.Exists(path)) return false;
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        return WholeLinesLength(stream) < stream.Length;
    }

    /// <summary>
    /// The index's results, the last line of a cell winning. A last line without its newline (torn by a crash,
    /// or being written) is skipped; any other line that is not a result is damage, reported as file:line.
    /// </summary>
    public static IReadOnlyList<CellResult> ReadIndex(string outDir)
    {
        var path = IndexFile(outDir);
        if (!File.Exists(path)) return [];
        string text;
        using (var reader = new StreamReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite)))
            text = reader.ReadToEnd();
        var lines = text.Split('\n');
        var byCell = new Dictionary<string, CellResult>();
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            if (string.IsNullOrWhiteSpace(line)) continue;
            // Split leaves the text after the last newline as the last element: that one may be torn.
            var torn = i == lines.Length - 1;
            try
            {
                var r = JsonSerializer.Deserialize<CellResult>(line, Json);
                if (r is not null) byCell[r.Cell] = r;
                else if (!torn) throw new InputError($"{path}:{i + 1}: expected a cell's result, found null");
            }
            catch (JsonException e) when (!torn)
            {
                throw new InputError($"{path}:{i + 1}: expected a cell's result as one JSON line ({e.Message.Split(" Path:")[0]}); " +
                                     "the index is damaged in the middle, not just torn at its end: remove that line and run `grid report` again");
            }
            catch (JsonException) { }
        }
        return byCell.Values.ToList();
    }
}
