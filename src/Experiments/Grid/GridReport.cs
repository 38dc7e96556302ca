using System.Globalization;
using System.Text;
using System.Text.Json;
using Masking.Experiments.Training;
using Masking.Metrics;
using Masking.Tasks;
using FList = Microsoft.FSharp.Collections.ListModule;

namespace Masking.Experiments.Grid;

/// <summary>
/// report.md, results.json and the plots (plots/*.png) of a grid, from its results index and run
/// directories: the results table in the paper's layout, significance against the no-IPT baseline, a
/// generated summary, the POS and rank–frequency profiles of each policy's masks, learning-efficiency curves
/// and the transfer matrix of the learned policies.
/// </summary>
public static class GridReport
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private sealed record Stat(double Mean, double Std, int Count, IReadOnlyList<double> Scores);

    public static void Write(GridConfig config, string outDir, string? dataRoot, TextWriter log)
    {
        var results = CellRunner.ReadIndex(outDir);
        if (CellRunner.HasTornLastLine(outDir))
            log.WriteLine($"report: the last line of {CellRunner.IndexFile(outDir)} is torn (a crash while it was written) and was skipped; its cell runs again with the grid");
        var full = results.Where(r => r.Fraction >= 1).ToList();
        var baseline = config.Arms.FirstOrDefault(a => a.Policy is null)?.Name;
        var table = new Dictionary<string, Dictionary<string, Stat>>();
        foreach (var arm in config.Arms)
        {
            table[arm.Name] = [];
            foreach (var task in config.Tasks)
            {
                var scores = full.Where(r => r.Arm == arm.Name && r.Task == task).OrderBy(r => r.Seed).Select(r => r.Score).ToList();
                var s = Statistics.summarize(FList.OfSeq(scores));
                table[arm.Name][task] = new Stat(s.Mean, s.Std, s.Count, scores);
            }
        }

        // Per-question scores of every evaluated cell, the comparisons with the reference arms, each task's floor.
        var split = SplitModule.parse(config.Evaluation.Split).ResultValue;
        var questionScores = new Dictionary<(string Arm, string Task), SortedDictionary<int, double[]>>();
        var floors = new Dictionary<string, TaskFloor>();
        var evaluated = new Dictionary<string, IReadOnlyList<TaskExample>>();
        foreach (var task in config.Tasks)
        {
            var examples = Significance.Examples(config, task, split, dataRoot);
            if (examples is null) { log.WriteLine($"report: no {config.Evaluation.Split} split of {task} here; its intervals are left out"); continue; }
            evaluated[task] = examples;
            var metric = Registry.find(task).ResultValue.Metrics.Head;
            foreach (var arm in config.Arms)
                if (Significance.QuestionScores(config, outDir, full.Where(r => r.Arm == arm.Name && r.Task == task), examples, metric) is { Count: > 0 } q)
                    questionScores[(arm.Name, task)] = q;
            if (Significance.Floor(Significance.Examples(config, task, Split.Train, dataRoot) ?? [], examples, metric) is { } floor) floors[task] = floor;
        }
        var references = new[] { baseline, config.Arms.FirstOrDefault(a => a.Name == "orig")?.Name }.OfType<string>().Distinct().ToList();
        var comparisons = Significance.Compare(config.Arms.Select(a => a.Name).ToList(), references, config.Tasks, questionScores);
        ArmComparison? Against(string arm, string reference, string task) =>
            comparisons.FirstOrDefault(c => c.Arm == arm && c.Reference == reference && c.Task == task);

        var plots = Path.Combine(outDir, "plots");
        Directory.CreateDirectory(plots);
        var md = new StringBuilder();
        var cells = GridPlan.Cells(config);
        var missing = cells.Count(c => c.IsResult) - results.Count;
        md.Append($"# Masking — grid `{config.Name}`\n\n");
        md.Append((config.Init is { } init
                      ? $"Model `{init}` (its own tokenizer; no general pre-training); "
                      : $"Model `{config.Model}` (vocabulary {config.VocabSize}); general pre-training {config.Pretrain.Steps} steps on `{config.Pretrain.Corpus}`; ") +
                  $"intermediate pre-training {config.Intermediate.Steps} steps on `{config.Intermediate.Corpus}` (same corpus, steps and seed for every policy); " +
                  $"fine-tuning ≤ {config.Finetune.Steps} steps with early stopping on dev; {config.Evaluation.Split} split, beam {config.Evaluation.Beam}; " +
                  $"{config.Seeds} fine-tuning seeds" + (config.IptSeeds > 1 ? $", each starting from one of {config.IptSeeds} IPT runs per arm." : " (one IPT run per arm)."));
        if (missing > 0) md.Append($" **{missing} result cells are not finished yet: the table shows what is.**");
        md.Append("\n\n");
        CellHealthReport.WriteFailures(config, outDir, md, log);
        md.Append("## Results\n\n");
        md.Append($"Mean ± sample std over seeds, in %. `*`: different from `{baseline ?? "(no baseline arm)"}` — the 95% paired " +
                  "bootstrap interval of the difference excludes 0 and the Holm-adjusted p is below 0.05 (see *Differences* below).\n\n");
        md.Append("| arm | " + string.Join(" | ", config.Tasks.Select(t => $"{t} ({Metric(t)})")) + " |\n");
        md.Append("| --- |" + string.Concat(config.Tasks.Select(_ => " --- |")) + "\n");
        foreach (var arm in config.Arms)
        {
            md.Append("| ").Append(arm.Policy is null ? arm.Name + " (no IPT)" : arm.Name).Append(" |");
            foreach (var task in config.Tasks)
            {
                var s = table[arm.Name][task];
                if (s.Count == 0) { md.Append(" – |"); continue; }
                var marks = baseline is not null && Against(arm.Name, baseline, task) is { Shown: true } ? "*" : "";
                md.Append(string.Create(Inv, $" {100 * s.Mean:F1} ± {100 * (double.IsNaN(s.Std) ? 0 : s.Std):F1}{marks} |"));
            }
            md.Append('\n');
        }
        if (floors.Count > 0)
            md.Append("| chance / majority |" + string.Concat(config.Tasks.Select(t => floors.TryGetValue(t, out var f)
                ? string.Create(Inv, $" {100 * f.Score:F1} ({f.Kind}) |") : " – |")) + "\n");
        md.Append("\nChance: the mean of 1 / options over the questions of a multiple-choice task; majority: every question " +
                  "answered with the training split's most frequent answer (a fixed answer, the first training answer, where none repeats). ");
        md.Append(config.Evaluation.Choice == "rank"
            ? $"Questions with options are answered by rank classification (each option scored by its {config.Evaluation.ChoiceNormalisation} log-probability as the target).\n"
            : "Questions with options are answered by free generation" + OutsideOptions(config, outDir, full) + ".\n");
        WriteDifferences(config, references, comparisons, md);
        var chance = Significance.AgainstChance(config.Arms.Select(a => a.Name).ToList(), evaluated, questionScores);
        if (chance.Count > 0)
        {
            var tasks = config.Tasks.Where(t => chance.Any(c => c.Task == t)).ToList();
            md.Append("\nAgainst chance (the multiple-choice tasks; each arm's score minus 1 / options per question, the same " +
                      "bootstrap; a check that the arm does better than guessing, outside the Holm family):\n\n");
            md.Append("| arm | " + string.Join(" | ", tasks) + " |\n| --- |" + string.Concat(tasks.Select(_ => " --- |")) + "\n");
            foreach (var arm in config.Arms)
                md.Append($"| {arm.Name} |" + string.Concat(tasks.Select(t =>
                {
                    var found = chance.Where(c => c.Arm == arm.Name && c.Task == t).Select(c => c.Result).ToList();
                    if (found.Count == 0) return " – |";
                    var r = found[0];
                    return string.Create(Inv, $" {100 * r.Difference:+0.0;-0.0;0.0} [{100 * r.Low:+0.0;-0.0;0.0}, {100 * r.High:+0.0;-0.0;0.0}] |");
                })) + "\n");
        }
        var oracleGaps = OracleReport.Write(config, baseline, comparisons, questionScores, md);
        md.Append("\n## Summary\n\n").Append(Summary(config, table, references, comparisons, floors)).Append('\n');
        var byRelation = RelationReport.Write(config, baseline, evaluated, questionScores, md);

        var sweeps = SweepReport.Write(config, (arm, task) => table[arm][task].Count > 0 ? table[arm][task].Mean : double.NaN, questionScores, plots, md);
        var attribution = AttributionReport.Write(config, outDir, evaluated, questionScores, plots, md, log);
        WriteLearningCurves(config, results, plots, md);
        WriteTransfer(config, table, baseline, plots, md);
        CellHealthReport.WriteTruncation(config, outDir, md);
        WriteMaskProfiles(config, outDir, dataRoot, plots, md, log);

        var json = new Dictionary<string, object?>
        {
            ["grid"] = config.Name,
            ["baseline"] = baseline,
            ["cells_expected"] = cells.Count(c => c.IsResult),
            ["cells_finished"] = results.Count,
            ["table"] = table.ToDictionary(a => a.Key, a => a.Value.ToDictionary(t => t.Key, t => (object?)new Dictionary<string, object?>
            {
                ["metric"] = Metric(t.Key), ["scores"] = t.Value.Scores, ["mean"] = Finite(t.Value.Mean), ["std"] = Finite(t.Value.Std),
                ["against"] = references.Where(r => r != a.Key).ToDictionary(r => r, r => Against(a.Key, r, t.Key) is { } c ? (object?)new Dictionary<string, object?>
                {
                    ["difference"] = c.Result.Difference, ["low"] = c.Result.Low, ["high"] = c.Result.High, ["p"] = c.Result.PValue,
                    ["p_holm"] = c.HolmP, ["shown"] = c.Shown, ["seeds"] = c.Result.Seeds, ["questions"] = c.Result.Questions,
                } : null),
            })),
            ["floors"] = floors.ToDictionary(f => f.Key, f => new Dictionary<string, object> { ["kind"] = f.Value.Kind, ["score"] = f.Value.Score }),
            ["bootstrap_resamples"] = Significance.Resamples,
            ["by_relation"] = byRelation,
            ["oracle_gaps"] = oracleGaps,
            ["sweeps"] = sweeps,
            ["attribution"] = attribution,
            ["results"] = results.OrderBy(r => r.Cell, StringComparer.Ordinal).ToList(),
        };
        RunDirectory.WriteAtomically(Path.Combine(outDir, "results.json"), JsonSerializer.Serialize(json, new JsonSerializerOptions
        {
            WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
        }) + "\n");
        RunDirectory.WriteAtomically(Path.Combine(outDir, "report.md"), md.ToString());
        log.WriteLine($"report: {Path.Combine(outDir, "report.md")}, {Path.Combine(outDir, "results.json")}, plots in {plots}");
    }

    private static double? Finite(double x) => double.IsFinite(x) ? x : null;

    /// <summary>Under free generation, the share of answers that match no option, per task with options.</summary>
    private static string OutsideOptions(GridConfig config, string outDir, IReadOnlyList<CellResult> full)
    {
        var parts = new List<string>();
        foreach (var task in config.Tasks)
        {
            var shares = full.Where(r => r.Task == task)
                .Select(r => Path.Combine(outDir, r.Cell, "eval-" + config.Evaluation.Split, "metrics.json"))
                .Where(File.Exists)
                .Select(f => JsonDocument.Parse(File.ReadAllText(f)).RootElement)
                .Where(e => e.TryGetProperty("outside_options", out _))
                .Select(e => e.GetProperty("outside_options").GetDouble()).ToList();
            if (shares.Count > 0) parts.Add(string.Create(Inv, $"{task} {100 * shares.Average():F1}%"));
        }
        return parts.Count == 0 ? "" : "; answers matching no option: " + string.Join(", ", parts);
    }

    private static string Metric(string task) => MetricModule.key(Registry.find(task).ResultValue.Metrics.Head);

    /// <summary>The differences with their intervals and p-values, one table per reference arm.</summary>
    private static void WriteDifferences(GridConfig config, IReadOnlyList<string> references, IReadOnlyList<ArmComparison> comparisons, StringBuilder md)
    {
        if (comparisons.Count == 0) return;
        var first = comparisons[0].Result;
        md.Append($"\n## Differences\n\nEach arm minus the reference arm, in points, with the 95% paired bootstrap interval ({Significance.Resamples} " +
                  $"resamples of seeds and {config.Evaluation.Split} questions together, seeds paired by index) and the two-sided bootstrap p, " +
                  $"Holm-adjusted over all {comparisons.Count} comparisons of the report. **Bold**: the interval excludes 0 and the adjusted p < 0.05.\n");
        foreach (var reference in references)
        {
            md.Append($"\nAgainst `{reference}`:\n\n| arm | " + string.Join(" | ", config.Tasks) + " |\n| --- |" + string.Concat(config.Tasks.Select(_ => " --- |")) + "\n");
            foreach (var arm in config.Arms.Where(a => a.Name != reference && comparisons.Any(c => c.Arm == a.Name && c.Reference == reference)))
            {
                md.Append($"| {arm.Name} |");
                foreach (var task in config.Tasks)
                {
                    var c = comparisons.FirstOrDefault(x => x.Arm == arm.Name && x.Reference == reference && x.Task == task);
                    if (c is null) { md.Append(" – |"); continue; }
                    var text = string.Create(Inv, $"{100 * c.Result.Difference:+0.0;-0.0;0.0} [{100 * c.Result.Low:+0.0;-0.0;0.0}, {100 * c.Result.High:+0.0;-0.0;0.0}] p {c.HolmP:G4}");
                    md.Append(c.Shown ? $" **{text}** |" : $" {text} |");
                }
                md.Append('\n');
            }
        }
        md.Append(string.Create(Inv, $"\n({first.Seeds} seeds × {first.Questions} questions in the first comparison.)\n"));
    }

    /// <summary>Only what the intervals support: a difference is named when it is shown, otherwise "no difference shown".</summary>
    private static string Summary(GridConfig config, Dictionary<string, Dictionary<string, Stat>> table, IReadOnlyList<string> references,
        IReadOnlyList<ArmComparison> comparisons, IReadOnlyDictionary<string, TaskFloor> floors)
    {
        var sb = new StringBuilder();
        foreach (var task in config.Tasks)
        {
            var ranked = config.Arms.Where(a => !OracleReport.IsOracle(a) && table[a.Name][task].Count > 0).OrderByDescending(a => table[a.Name][task].Mean).ToList();
            if (ranked.Count == 0) continue;
            var best = ranked[0].Name;
            sb.Append(string.Create(Inv, $"- **{task}**: highest mean `{best}` ({100 * table[best][task].Mean:F1})"));
            if (floors.TryGetValue(task, out var floor))
            {
                var under = ranked.Where(a => table[a.Name][task].Mean <= floor.Score).Select(a => $"`{a.Name}`").ToList();
                sb.Append(string.Create(Inv, $"; {floor.Kind} {100 * floor.Score:F1}"));
                if (under.Count > 0) sb.Append($" (at or below it: {string.Join(", ", under)})");
            }
            foreach (var reference in references)
            {
                var mine = comparisons.Where(c => c.Reference == reference && c.Task == task).ToList();
                if (mine.Count == 0) continue;
                var above = mine.Where(c => c.Shown && c.Result.Difference > 0).OrderByDescending(c => c.Result.Difference)
                    .Select(c => string.Create(Inv, $"`{c.Arm}` {100 * c.Result.Difference:+0.0} [{100 * c.Result.Low:+0.0;-0.0}, {100 * c.Result.High:+0.0;-0.0}]")).ToList();
                var below = mine.Where(c => c.Shown && c.Result.Difference < 0).OrderBy(c => c.Result.Difference)
                    .Select(c => string.Create(Inv, $"`{c.Arm}` {100 * c.Result.Difference:+0.0;-0.0} [{100 * c.Result.Low:+0.0;-0.0}, {100 * c.Result.High:+0.0;-0.0}]")).ToList();
                var name = config.Arms.Any(a => a.Name == reference && a.Policy is null) ? $"`{reference}` (no IPT)" : $"`{reference}`";
                sb.Append($". Against {name}: ");
                if (above.Count == 0 && below.Count == 0) sb.Append("no difference shown");
                else
                {
                    if (above.Count > 0) sb.Append("above: " + string.Join(", ", above));
                    if (below.Count > 0) sb.Append((above.Count > 0 ? "; " : "") + "below: " + string.Join(", ", below));
                    var rest = mine.Count - above.Count - below.Count;
                    if (rest > 0) sb.Append($"; no difference shown for the other {rest}");
                }
            }
            sb.Append(".\n");
        }
        return sb.ToString();
    }

    // ---- learning efficiency ------------------------------------------------------------------------------

    private static void WriteLearningCurves(GridConfig config, IReadOnlyList<CellResult> results, string plots, StringBuilder md)
    {
        md.Append("\n## Learning efficiency\n\n");
        foreach (var task in config.Tasks)
        {
            var series = config.Arms.Select(arm =>
            {
                var curves = results.Where(r => r.Arm == arm.Name && r.Task == task && r.Fraction >= 1 && r.DevCurve.Count > 0).ToList();
                var steps = curves.SelectMany(c => c.DevCurve.Select(p => p[0])).Distinct().Order().ToArray();
                // Early stopping ends seeds at different steps: a seed's last value carries forward.
                var means = steps.Select(s => curves.Average(c => c.DevCurve.LastOrDefault(p => p[0] <= s, c.DevCurve[0])[1])).ToArray();
                return (arm.Name, X: steps, Y: means);
            }).Where(s => s.X.Length > 0).ToList();
            if (series.Count == 0) continue;
            var file = $"curve-steps-{task}.png";
            Plots.Lines(Path.Combine(plots, file), $"{task}: dev {Metric(task)} during fine-tuning (mean over seeds)", "fine-tuning step", $"dev {Metric(task)}", series);
            md.Append($"![dev {Metric(task)} against fine-tuning steps, {task}](plots/{file})\n\n");
        }

        var fractions = results.Where(r => r.Fraction < 1).Select(r => r.Task).Distinct().ToList();
        foreach (var task in fractions)
        {
            var series = config.Arms.Select(arm =>
            {
                var points = results.Where(r => r.Arm == arm.Name && r.Task == task && r.Seed <= config.Finetune.FractionSeeds)
                    .GroupBy(r => r.Fraction).OrderBy(g => g.Key).Select(g => (X: g.Key, Y: g.Average(r => r.Score))).ToList();
                return (arm.Name, X: points.Select(p => p.X).ToArray(), Y: points.Select(p => p.Y).ToArray());
            }).Where(s => s.X.Length > 1).ToList();
            if (series.Count == 0) continue;
            var file = $"curve-fraction-{task}.png";
            Plots.Lines(Path.Combine(plots, file), $"{task}: {config.Evaluation.Split} {Metric(task)} against training data", "fraction of the training split", $"{config.Evaluation.Split} {Metric(task)}", series);
            md.Append($"![{Metric(task)} against the fraction of training data, {task}](plots/{file})\n\n");
            md.Append($"| arm | " + string.Join(" | ", series[0].X.Select(x => x.ToString("0.##", Inv))) + " |\n| --- |" + string.Concat(series[0].X.Select(_ => " --- |")) + "\n");
            foreach (var s in series) md.Append($"| {s.Name} | " + string.Join(" | ", s.Y.Select(y => (100 * y).ToString("F1", Inv))) + " |\n");
            md.Append('\n');
        }
    }

    // ---- transfer -------------------------------------------------------------------------------------------

    private static void WriteTransfer(GridConfig config, Dictionary<string, Dictionary<string, Stat>> table, string? baseline, string plots, StringBuilder md)
    {
        var learned = config.Arms.Where(a => a.Scorer is not null).ToList();
        if (learned.Count == 0 || baseline is null) return;
        md.Append("\n## Transfer of learned policies\n\n");
        md.Append($"Rows: a learned policy and the task it learned from; columns: the task fine-tuned after intermediate pre-training with it; " +
                  $"cells: difference from no IPT in points (the learned-on task is the diagonal).\n\n");
        md.Append("| policy (learned on) | " + string.Join(" | ", config.Tasks) + " |\n| --- |" + string.Concat(config.Tasks.Select(_ => " --- |")) + "\n");
        var matrix = new double[learned.Count, config.Tasks.Count];
        var labels = new List<string>();
        for (var i = 0; i < learned.Count; i++)
        {
            var source = config.LearnedPolicies.First(p => p.Name == learned[i].Scorer);
            labels.Add($"{learned[i].Name} ({source.Task})");
            md.Append($"| {learned[i].Name} ({source.Kind} on {source.Task}) |");
            for (var j = 0; j < config.Tasks.Count; j++)
            {
                var a = table[learned[i].Name][config.Tasks[j]];
                var b = table[baseline][config.Tasks[j]];
                matrix[i, j] = a.Count > 0 && b.Count > 0 ? 100 * (a.Mean - b.Mean) : double.NaN;
                md.Append(double.IsNaN(matrix[i, j]) ? " – |" : string.Create(Inv, $" {matrix[i, j]:+0.0;-0.0;0.0}{(config.Tasks[j] == source.Task ? " (in-task)" : "")} |"));
            }
            md.Append('\n');
        }
        // A grid with no finished pair yet (a report of a partial run) has nothing to colour.
        if (matrix.Cast<double>().All(double.IsNaN)) { md.Append("\n(no plot yet: no learned arm and baseline have results for one task)\n"); return; }
        Plots.Heatmap(Path.Combine(plots, "transfer.png"), "learned policies: points over no IPT", labels, config.Tasks, matrix);
        md.Append("\n![transfer matrix](plots/transfer.png)\n");
    }

    // ---- failures -------------------------------------------------------------------------------------------

    // ---- what the policies mask -----------------------------------------------------------------------------

    private static void WriteMaskProfiles(GridConfig config, string outDir, string? dataRoot, string plots, StringBuilder md, TextWriter log)
    {
        if (!HuggingFace.ModelDirectory.HasTokenizer(CellRunner.StartingModel(config, outDir))) return;
        var profiles = MaskAnalysis.Profiles(config, outDir, dataRoot, log);
        var corpus = profiles[0];
        md.Append($"\n## What the policies mask\n\n{corpus.Examples} examples of `{config.Intermediate.Corpus}` (at most {config.AnalysisSentences}) masked by each arm's policy " +
                  "(seed 0; learned policies with their scorers), tokens tagged by the shipped POS model.\n\n");
        if (corpus.PosCounts.Count > 0)
        {
            var tags = corpus.PosCounts.OrderByDescending(kv => kv.Value).Select(kv => kv.Key).Take(10).ToList();
            md.Append("Share of masked tokens by UPOS tag, in % (the corpus row: all tokens):\n\n");
            md.Append("| policy | " + string.Join(" | ", tags) + " |\n| --- |" + string.Concat(tags.Select(_ => " --- |")) + "\n");
            var shares = new List<(string Name, double[] Values)>();
            foreach (var p in profiles)
            {
                var total = Math.Max(1, p.PosCounts.Values.Sum());
                var values = tags.Select(t => 100.0 * p.PosCounts.GetValueOrDefault(t) / total).ToArray();
                shares.Add((p.Arm, values));
                md.Append($"| {p.Arm} | " + string.Join(" | ", values.Select(v => v.ToString("F1", Inv))) + " |\n");
            }
            Plots.GroupedBars(Path.Combine(plots, "pos.png"), "POS of masked tokens", tags, shares, "% of masked tokens");
            md.Append("\n![POS distribution of masked tokens](plots/pos.png)\n\n");
        }
        md.Append("Rank–frequency of the words that masked tokens belong to, with the fitted Zipf exponent s (count ∝ rank^−s, ranks with count ≥ 2):\n\n");
        md.Append("| policy | masked tokens | distinct words | s | most masked words |\n| --- | --- | --- | --- | --- |\n");
        foreach (var p in profiles)
            md.Append(string.Create(Inv, $"| {p.Arm} | {p.MaskedTokens} | {p.Frequencies.Count} | {p.ZipfExponent:F2} | {string.Join(", ", p.Frequencies.Take(5).Select(f => $"`{f.Token}` {f.Count}"))} |\n"));
        Plots.LogLog(Path.Combine(plots, "zipf.png"), "rank–frequency of masked words", profiles.Select(p => (p.Arm, p.Frequencies.Select(f => (double)f.Count).ToArray())).ToList());
        md.Append("\n![rank-frequency of masked tokens](plots/zipf.png)\n");
    }
}
