using System.Globalization;
using System.Text;
using Masking.Metrics;

namespace Masking.Experiments.Grid;

/// <summary>
/// The arms of each knob sweep against the knob's value, per task: the mean over seeds and test questions with
/// its 95% bootstrap interval (seeds and questions resampled together, as everywhere in the report), as a table
/// and a plot. Descriptive: the sweep's arms take part in the main comparisons as any arm does, and this section
/// adds no test.
/// </summary>
public static class SweepReport
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Appends the section; returns sweep → knob, values and per-task points for results.json (null: no sweep).</summary>
    public static Dictionary<string, object>? Write(GridConfig config, Func<string, string, double> tableMean,
        IReadOnlyDictionary<(string Arm, string Task), SortedDictionary<int, double[]>> questionScores, string plots, StringBuilder md)
    {
        var sweeps = config.Arms.Where(a => a.Sweep is not null).GroupBy(a => a.Sweep!.Sweep).ToList();
        if (sweeps.Count == 0) return null;
        md.Append("\n## Sweeps\n\nEach arm of a knob sweep against the knob's value: the mean over seeds and " +
                  $"{config.Evaluation.Split} questions in %, with the 95% bootstrap interval ({Significance.Resamples} resamples of seeds and questions " +
                  "together; descriptive, no test). A value without per-question scores shows the mean of its cells alone.\n");
        var json = new Dictionary<string, object>();
        foreach (var sweep in sweeps)
        {
            var arms = sweep.OrderBy(a => a.Sweep!.Value).ToList();
            var knob = arms[0].Sweep!.Knob;
            var values = arms.Select(a => a.Sweep!.Value).ToArray();
            md.Append($"\n`{sweep.Key}` over `{knob}` (policies: {string.Join(", ", arms.Select(a => $"`{a.Policy}`"))}):\n\n");
            md.Append($"| {knob} | " + string.Join(" | ", config.Tasks) + " |\n| --- |" + string.Concat(config.Tasks.Select(_ => " --- |")) + "\n");
            var points = config.Tasks.ToDictionary(t => t, t => arms.Select(a => Point(a.Name, t, tableMean, questionScores)).ToArray());
            for (var i = 0; i < arms.Count; i++)
                md.Append($"| {GridPlan.FractionLabel(values[i])} |" + string.Concat(config.Tasks.Select(t => Cell(points[t][i]))) + "\n");
            foreach (var task in config.Tasks)
            {
                var shown = Enumerable.Range(0, arms.Count).Where(i => double.IsFinite(points[task][i].Mean)).ToArray();
                if (shown.Length == 0) continue;
                var png = $"sweep-{sweep.Key}-{knob}-{task}.png";
                Plots.LinesWithIntervals(Path.Combine(plots, png), $"{task}: {sweep.Key} over {knob}", knob, "score (%)",
                    [(sweep.Key, shown.Select(i => values[i]).ToArray(), shown.Select(i => 100 * points[task][i].Mean).ToArray(),
                      shown.Select(i => 100 * points[task][i].Low).ToArray(), shown.Select(i => 100 * points[task][i].High).ToArray())]);
                md.Append($"\n![{task}: {sweep.Key} over {knob}](plots/{png})\n");
            }
            json[sweep.Key] = new Dictionary<string, object>
            {
                ["knob"] = knob,
                ["values"] = values,
                ["arms"] = arms.Select(a => a.Name).ToArray(),
                ["tasks"] = points.ToDictionary(p => p.Key, p => p.Value.Select(x => new Dictionary<string, double?>
                {
                    ["mean"] = Finite(x.Mean), ["low"] = Finite(x.Low), ["high"] = Finite(x.High),
                }).ToArray()),
            };
        }
        return json;
    }

    private readonly record struct SweepPoint(double Mean, double Low, double High);

    /// <summary>The mean with its bootstrap interval: the arm's per-question scores against zero on the same questions.</summary>
    private static SweepPoint Point(string arm, string task, Func<string, string, double> tableMean,
        IReadOnlyDictionary<(string Arm, string Task), SortedDictionary<int, double[]>> questionScores)
    {
        if (questionScores.TryGetValue((arm, task), out var bySeed) && bySeed.Count > 0)
        {
            var rows = bySeed.Values.ToArray();
            var zeros = rows.Select(r => new double[r.Length]).ToArray();
            var r = PairedBootstrap.compare(Seeds.salt($"{arm}|sweep|{task}", 0UL), Significance.Resamples, rows, zeros);
            if (r.IsOk) return new SweepPoint(r.ResultValue.Difference, r.ResultValue.Low, r.ResultValue.High);
        }
        var mean = tableMean(arm, task);
        return new SweepPoint(mean, mean, mean);
    }

    private static string Cell(SweepPoint p) =>
        !double.IsFinite(p.Mean) ? " – |"
        : p.Low == p.High ? string.Create(Inv, $" {100 * p.Mean:F1} |")
        : string.Create(Inv, $" {100 * p.Mean:F1} [{100 * p.Low:F1}, {100 * p.High:F1}] |");

    private static double? Finite(double x) => double.IsFinite(x) ? x : null;
}
