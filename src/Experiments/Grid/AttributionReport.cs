using System.Globalization;
using System.Text;
using Masking.Metrics;
using Masking.Tasks;
using Masking.World;

namespace Masking.Experiments.Grid;

/// <summary>
/// Fact-level attribution on the world tasks that ask about one fact a question: each arm's accuracy as a function
/// of how many times intermediate pre-training masked the answer (the fact's object), with a logistic fit, and for
/// facts whose subject's name was masked against facts whose object was. The mechanism behind "ssm helps
/// entity-centric tasks", measured: the counts come from replaying each IPT cell's masks (FactAttribution).
/// </summary>
public static class AttributionReport
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private static readonly (string Label, int Low, int High)[] Buckets = [("0", 0, 0), ("1–2", 1, 2), ("3–5", 3, 5), ("6+", 6, int.MaxValue)];

    private readonly record struct Observation(int ObjectMasked, int SubjectMasked, double Score);

    public static Dictionary<string, object>? Write(GridConfig config, string outDir, IReadOnlyDictionary<string, IReadOnlyList<TaskExample>> evaluated,
        IReadOnlyDictionary<(string Arm, string Task), SortedDictionary<int, double[]>> questionScores, string plots, StringBuilder md, TextWriter log)
    {
        var world = Registry.defaultWorld.Value;
        var split = SplitModule.parse(config.Evaluation.Split).ResultValue;
        // Each evaluated question of a one-fact world task → the fact it asks about.
        var factOf = new Dictionary<string, FactKey?[]>();
        foreach (var task in config.Tasks)
        {
            if (!evaluated.TryGetValue(task, out var examples) || WorldTasks.examplesAbout(task, world, split)?.Value is not { } about) continue;
            var subjectOf = about.ToDictionary(x => x.Item1.Id, x => x.Item2);
            var facts = examples.Select(e => WorldTasks.relationOfId(e.Id)?.Value is { } r && subjectOf.TryGetValue(e.Id, out var s)
                ? new FactKey(s, RelationModule.name(r)) : (FactKey?)null).ToArray();
            if (facts.Any(f => f is not null)) factOf[task] = facts;
        }
        if (factOf.Count == 0 || config.Intermediate.Corpus != "world-target") return null;

        var cells = GridPlan.Cells(config).ToDictionary(c => c.Id);
        var replayed = new Dictionary<string, FactMaskCounts?>();
        FactMaskCounts? CountsOf(string iptCell)
        {
            if (replayed.TryGetValue(iptCell, out var c)) return c;
            c = FactAttribution.Replay(Path.Combine(outDir, iptCell), log);
            if (c is not null) FactAttribution.Write(Path.Combine(outDir, "attribution", iptCell.Replace('/', '-') + ".jsonl"), c);
            return replayed[iptCell] = c;
        }

        md.Append("\n## Which answers were masked\n\nEach IPT cell's masks are drawn again after the run (they depend only on seeds), and each " +
                  "fact counts the times its object — the answer of the question about it — was masked whole, over all IPT steps " +
                  "(`attribution/CELL.jsonl`: per fact and epoch). Below: the mean score of the " +
                  $"{config.Evaluation.Split} questions by that count, in % (questions × seeds in brackets), a logistic fit of the score on " +
                  "log(1 + count) (slope ± standard error), and the questions whose subject's name was masked (the object never) against " +
                  "those whose object was. Descriptive: no test.\n");
        var json = new Dictionary<string, object>();
        foreach (var (task, facts) in factOf)
        {
            md.Append($"\n**{task}**\n\n| arm | " + string.Join(" | ", Buckets.Select(b => $"answer masked {b.Label}")) +
                      " | slope | subject masked | object masked |\n| --- |" + string.Concat(Enumerable.Repeat(" --- |", Buckets.Length + 3)) + "\n");
            var series = new List<(string Name, double[] X, double[] Y)>();
            var taskJson = new Dictionary<string, object?>();
            foreach (var arm in config.Arms)
            {
                if (!questionScores.TryGetValue((arm.Name, task), out var bySeed)) continue;
                var observations = new List<Observation>();
                foreach (var (seed, scores) in bySeed)
                {
                    FactMaskCounts? counts = null;
                    if (arm.Policy is not null)
                    {
                        var finetune = cells.GetValueOrDefault($"finetune/{arm.Name}/{task}/seed{seed}");
                        var ipt = finetune?.DependsOn.FirstOrDefault(d => d.StartsWith("ipt/", StringComparison.Ordinal));
                        counts = ipt is null ? null : CountsOf(ipt);
                        if (counts is null) continue;
                    }
                    for (var q = 0; q < scores.Length && q < facts.Length; q++)
                        if (facts[q] is { } f)
                            observations.Add(new Observation(counts is null ? 0 : counts.Object.GetValueOrDefault(f)?.Sum() ?? 0,
                                counts is null ? 0 : counts.Subject.GetValueOrDefault(f)?.Sum() ?? 0, scores[q]));
                }
                if (observations.Count == 0) continue;
                var byBucket = Buckets.Select(b => observations.Where(o => o.ObjectMasked >= b.Low && o.ObjectMasked <= b.High).ToList()).ToList();
                var fit = Logistic.fit(observations.Select(o => Math.Log(1 + o.ObjectMasked)).ToArray(), observations.Select(o => o.Score).ToArray());
                var subjectOnly = observations.Where(o => o.SubjectMasked > 0 && o.ObjectMasked == 0).ToList();
                var objectMasked = observations.Where(o => o.ObjectMasked > 0).ToList();
                md.Append($"| {arm.Name} |" + string.Concat(byBucket.Select(Mean)) +
                          (fit?.Value is { } l ? string.Create(Inv, $" {l.Slope:+0.00;-0.00} ± {l.SlopeError:0.00} |") : " – |") +
                          Mean(subjectOnly) + Mean(objectMasked) + "\n");
                var shown = Enumerable.Range(0, Buckets.Length).Where(b => byBucket[b].Count > 0).ToArray();
                series.Add((arm.Name, shown.Select(b => (double)b).ToArray(), shown.Select(b => 100 * byBucket[b].Average(o => o.Score)).ToArray()));
                taskJson[arm.Name] = new Dictionary<string, object?>
                {
                    ["buckets"] = Buckets.Select((b, k) => new Dictionary<string, object?>
                    {
                        ["masked"] = b.Label, ["count"] = byBucket[k].Count, ["mean"] = byBucket[k].Count == 0 ? null : byBucket[k].Average(o => o.Score),
                    }).ToArray(),
                    ["slope"] = fit?.Value.Slope, ["slope_error"] = fit?.Value.SlopeError,
                    ["subject_masked"] = subjectOnly.Count == 0 ? null : subjectOnly.Average(o => o.Score), ["subject_masked_count"] = subjectOnly.Count,
                    ["object_masked"] = objectMasked.Count == 0 ? null : objectMasked.Average(o => o.Score), ["object_masked_count"] = objectMasked.Count,
                };
            }
            if (series.Count > 0)
            {
                var png = $"attribution-{task}.png";
                Plots.Lines(Path.Combine(plots, png), $"{task}: score by times the answer was masked in IPT",
                    "times masked (0: 0, 1: 1–2, 2: 3–5, 3: 6+)", "score (%)", series);
                md.Append($"\n![{task}: score by times the answer was masked](plots/{png})\n");
            }
            json[task] = taskJson;
        }
        return json;
    }

    private static string Mean(IReadOnlyCollection<Observation> group) =>
        group.Count == 0 ? " – |" : string.Create(Inv, $" {100 * group.Average(o => o.Score):F1} ({group.Count}) |");
}
