using System.Text.Json;
using Masking.Metrics;
using Masking.Tasks;

namespace Masking.Experiments.Grid;

/// <summary>One cell of the comparison tables: an arm against a reference arm on one task.</summary>
public sealed record ArmComparison(string Arm, string Reference, string Task, PairedComparison Result, double HolmP)
{
    /// <summary>Shown: the interval excludes 0 and the Holm-adjusted p is below 0.05.</summary>
    public bool Shown => HolmP < 0.05 && (Result.Low > 0 || Result.High < 0);
}

/// <summary>What a task's floor is: chance for multiple choice, else the most frequent training answer.</summary>
public sealed record TaskFloor(string Kind, double Score);

/// <summary>
/// The statistics the report's claims rest on: per-question scores of every evaluated cell, paired bootstrap
/// comparisons of each arm with the reference arms (no IPT, and <c>orig</c>) that resample seeds and test
/// questions together, Holm's adjustment over every comparison of the table, and each task's floor.
/// </summary>
public static class Significance
{
    public const int Resamples = 2000;

    /// <summary>The evaluation split's examples of a task (the first <c>max_examples</c>), or null without its data.</summary>
    public static IReadOnlyList<TaskExample>? Examples(GridConfig config, string task, Split split, string? dataRoot)
    {
        var info = Registry.find(task);
        if (info.IsError) return null;
        IReadOnlyList<TaskExample> examples;
        try { examples = Training.StageInputs.LoadSplit(info.ResultValue, split, dataRoot); }
        catch (InputError) { return null; }
        // The evaluation split as the cells evaluated it (its first max_examples); the training split whole.
        return split != Split.Train && config.Evaluation.MaxExamples is { } m && m < examples.Count ? examples.Take(m).ToList() : examples;
    }

    /// <summary>
    /// Seed → per-question scores (the task's first metric) of one arm and task, from each finished cell's
    /// eval predictions, in the split's order; null when a cell's predictions do not cover the split.
    /// </summary>
    public static SortedDictionary<int, double[]>? QuestionScores(GridConfig config, string outDir, IEnumerable<CellResult> cells,
        IReadOnlyList<TaskExample> examples, Metric metric)
    {
        var bySeed = new SortedDictionary<int, double[]>();
        foreach (var cell in cells)
        {
            var path = Path.Combine(outDir, cell.Cell, "eval-" + config.Evaluation.Split, "predictions.jsonl");
            if (!File.Exists(path)) return null;
            var answers = new Dictionary<string, string>();
            foreach (var line in File.ReadLines(path))
            {
                if (string.IsNullOrWhiteSpace(line)) continue;
                using var doc = JsonDocument.Parse(line);
                var id = doc.RootElement.GetProperty("id").ToString();
                answers[id] = doc.RootElement.GetProperty("output")[0].GetProperty("answer").GetString() ?? "";
            }
            if (examples.Any(e => !answers.ContainsKey(e.Id))) return null;
            bySeed[cell.Seed] = examples.Select(e => MetricModule.scoreOne(metric, answers[e.Id], e.Targets)).ToArray();
        }
        return bySeed;
    }

    /// <summary>
    /// Every arm against every reference arm it is not, per task, on the seeds both have; Holm-adjusted over the
    /// whole family. The bootstrap's seed comes from the names, so the report is the same bytes every time.
    /// </summary>
    public static IReadOnlyList<ArmComparison> Compare(IReadOnlyList<string> arms, IReadOnlyList<string> references, IReadOnlyList<string> tasks,
        IReadOnlyDictionary<(string Arm, string Task), SortedDictionary<int, double[]>> scores)
    {
        var raw = new List<(string Arm, string Reference, string Task, PairedComparison Result)>();
        foreach (var reference in references)
            foreach (var task in tasks)
                foreach (var arm in arms.Where(a => a != reference))
                {
                    // B − A is A − B negated: a pair of references is compared once.
                    if (raw.Any(r => r.Arm == reference && r.Reference == arm && r.Task == task)) continue;
                    if (!scores.TryGetValue((arm, task), out var a) || !scores.TryGetValue((reference, task), out var b)) continue;
                    var seeds = a.Keys.Intersect(b.Keys).Order().ToArray();
                    if (seeds.Length == 0) continue;
                    var seed = Seeds.salt($"{arm}|{reference}|{task}", 0UL);
                    var result = PairedBootstrap.compare(seed, Resamples, seeds.Select(s => a[s]).ToArray(), seeds.Select(s => b[s]).ToArray());
                    if (result.IsOk) raw.Add((arm, reference, task, result.ResultValue));
                }
        var holm = PairedBootstrap.holm(raw.Select(r => r.Result.PValue).ToArray());
        return raw.Select((r, i) => new ArmComparison(r.Arm, r.Reference, r.Task, r.Result, holm[i])).ToList();
    }

    /// <summary>
    /// Each arm against guessing on a multiple-choice task: its per-question scores against 1 / options on every
    /// question, with the same bootstrap (a check that the arm does better than chance, outside the Holm family
    /// of the arm-to-arm comparisons).
    /// </summary>
    public static IReadOnlyList<(string Arm, string Task, PairedComparison Result)> AgainstChance(IReadOnlyList<string> arms,
        IReadOnlyDictionary<string, IReadOnlyList<TaskExample>> evaluated,
        IReadOnlyDictionary<(string Arm, string Task), SortedDictionary<int, double[]>> scores)
    {
        var result = new List<(string, string, PairedComparison)>();
        foreach (var (task, examples) in evaluated)
        {
            if (examples.Count == 0 || examples.Any(e => e.Options.IsEmpty)) continue;
            var chance = examples.Select(e => 1.0 / e.Options.Length).ToArray();
            foreach (var arm in arms)
            {
                if (!scores.TryGetValue((arm, task), out var a)) continue;
                var rows = a.Values.ToArray();
                var compared = PairedBootstrap.compare(Seeds.salt($"{arm}|chance|{task}", 0UL), Resamples, rows, rows.Select(_ => chance).ToArray());
                if (compared.IsOk) result.Add((arm, task, compared.ResultValue));
            }
        }
        return result;
    }

    /// <summary>
    /// Chance for a multiple-choice task (the mean of 1 / options over the questions); otherwise the score of
    /// answering every question with the training split's most frequent answer (majority; a fixed answer where none repeats).
    /// </summary>
    public static TaskFloor? Floor(IReadOnlyList<TaskExample> train, IReadOnlyList<TaskExample> evaluated, Metric metric)
    {
        if (evaluated.Count == 0) return null;
        if (evaluated.All(e => e.Options.Length > 0))
            return new TaskFloor("chance", evaluated.Average(e => 1.0 / e.Options.Length));
        if (train.Count == 0) return null;
        var majority = train.GroupBy(e => e.Targets.Head, StringComparer.Ordinal)
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).First();
        // Where no training answer repeats (a long output), there is no majority: the floor is one fixed training
        // answer (the first in ordinal order), which still scores what the answers' shared wording gives.
        return new TaskFloor(majority.Count() > 1 ? "majority" : "fixed answer",
            evaluated.Average(e => MetricModule.scoreOne(metric, majority.Key, e.Targets)));
    }
}
