using System.Globalization;
using System.Text;
using Masking.Metrics;

namespace Masking.Experiments.Grid;

/// <summary>The report's gap to the oracle: how far each arm is from the policy that masks the test answers.</summary>
public static class OracleReport
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>An arm of the <c>oracle</c> policy: it reads the evaluation's questions, so it bounds the others and
    /// competes with none of them.</summary>
    internal static bool IsOracle(ArmSection arm) =>
        arm.Policy is { } p && (p == "oracle" || p.StartsWith("oracle:", StringComparison.Ordinal));

    /// <summary>
    /// Each arm's gap to the oracle arm (arm − oracle, with the same paired bootstrap) next to its gap to the
    /// baseline; Holm-adjusted within this table only (descriptive: the oracle is an upper bound, not a
    /// competitor). Returns arm → task → gap, for results.json; null without an oracle arm.
    /// </summary>
    public static Dictionary<string, Dictionary<string, object?>>? Write(GridConfig config, string? baseline,
        IReadOnlyList<ArmComparison> comparisons, IReadOnlyDictionary<(string Arm, string Task), SortedDictionary<int, double[]>> questionScores,
        StringBuilder md)
    {
        var oracle = config.Arms.FirstOrDefault(IsOracle)?.Name;
        if (oracle is null) return null;
        var others = config.Arms.Where(a => a.Name != oracle).Select(a => a.Name).ToList();
        var gaps = Significance.Compare([.. others, oracle], [oracle], config.Tasks, questionScores);
        static string Interval(PairedComparison r) =>
            string.Create(Inv, $"{100 * r.Difference:+0.0;-0.0;0.0} [{100 * r.Low:+0.0;-0.0;0.0}, {100 * r.High:+0.0;-0.0;0.0}]");
        md.Append($"\n## Gap to the oracle\n\n`{oracle}` masks the answers of the {config.Evaluation.Split} questions where the intermediate corpus " +
                  "states them (one per sentence): **it reads the test questions.** It bounds what a masking policy can do here and is never a fair " +
                  $"competitor. Each cell: the arm minus `{baseline ?? "(no baseline)"}`, then the arm minus `{oracle}`, in points with 95% paired " +
                  "bootstrap intervals; the gaps to the oracle are Holm-adjusted among themselves, outside the family of *Differences*. " +
                  "The summary's highest mean leaves the oracle out.\n\n");
        md.Append("| arm | " + string.Join(" | ", config.Tasks) + " |\n| --- |" + string.Concat(config.Tasks.Select(_ => " --- |")) + "\n");
        var json = new Dictionary<string, Dictionary<string, object?>>();
        foreach (var arm in others)
        {
            md.Append($"| {arm} |");
            json[arm] = [];
            foreach (var task in config.Tasks)
            {
                var toBaseline = baseline is null ? null : comparisons.FirstOrDefault(c => c.Arm == arm && c.Reference == baseline && c.Task == task);
                var toOracle = gaps.FirstOrDefault(c => c.Arm == arm && c.Task == task);
                var first = arm == baseline ? "0" : toBaseline is null ? "–" : Interval(toBaseline.Result);
                md.Append($" {first}; {(toOracle is null ? "–" : Interval(toOracle.Result))} |");
                json[arm][task] = toOracle is null ? null : new Dictionary<string, object?>
                {
                    ["difference"] = toOracle.Result.Difference, ["low"] = toOracle.Result.Low, ["high"] = toOracle.Result.High,
                    ["p_holm"] = toOracle.HolmP, ["seeds"] = toOracle.Result.Seeds, ["questions"] = toOracle.Result.Questions,
                };
            }
            md.Append('\n');
        }
        return json;
    }
}
