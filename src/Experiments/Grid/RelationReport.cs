using System.Globalization;
using System.Text;
using Masking.Metrics;
using Masking.Tasks;
using Masking.World;

namespace Masking.Experiments.Grid;

/// <summary>
/// Results split by the relation each question of a world task asks about (its id names it): where an arm's
/// gain comes from. <c>ssm</c> masks entities, dates and years but never occupations, so a policy that helps on
/// occupations and not elsewhere tells a different story from one that helps everywhere. Each cell is the mean
/// over seeds and the relation's questions, with its difference from the reference arm and the 95% paired
/// bootstrap interval over seeds × those questions (descriptive: outside the Holm family of the main table).
/// </summary>
public static class RelationReport
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Appends the section to <paramref name="md"/>; returns its figures for results.json (null: no such task).</summary>
    public static Dictionary<string, object?>? Write(GridConfig config, string? reference, IReadOnlyDictionary<string, IReadOnlyList<TaskExample>> evaluated,
        IReadOnlyDictionary<(string Arm, string Task), SortedDictionary<int, double[]>> scores, StringBuilder md)
    {
        var sections = new List<string>();
        var perTask = new Dictionary<string, object?>();
        foreach (var task in config.Tasks)
        {
            if (!evaluated.TryGetValue(task, out var examples)) continue;
            var relations = examples.Select((e, i) => (Relation: WorldTasks.relationOfId(e.Id), Index: i))
                .Where(x => x.Relation is not null)
                .GroupBy(x => WorldTasks.relationSlug(x.Relation!.Value), x => x.Index)
                .Select(g => (Name: g.Key, Questions: g.ToArray()))
                .ToList();
            if (relations.Count < 2) continue;
            var sb = new StringBuilder();
            sb.Append($"\n### {task}\n\n| arm | " + string.Join(" | ", relations.Select(r => $"{r.Name} ({r.Questions.Length})")) + " |\n");
            sb.Append("| --- |" + string.Concat(relations.Select(_ => " --- |")) + "\n");
            var taskJson = new Dictionary<string, object?>();
            foreach (var arm in config.Arms)
            {
                if (!scores.TryGetValue((arm.Name, task), out var a)) continue;
                var armJson = new Dictionary<string, object?>();
                sb.Append($"| {arm.Name} |");
                foreach (var (name, questions) in relations)
                {
                    double[][] Rows(SortedDictionary<int, double[]> s, IEnumerable<int> seeds) =>
                        seeds.Select(seed => questions.Select(q => s[seed][q]).ToArray()).ToArray();
                    var mean = Rows(a, a.Keys).Average(r => r.Average());
                    var cell = string.Create(Inv, $" {100 * mean:F1}");
                    var entry = new Dictionary<string, object?> { ["mean"] = mean, ["questions"] = questions.Length };
                    if (reference is not null && arm.Name != reference && scores.TryGetValue((reference, task), out var b))
                    {
                        var seeds = a.Keys.Intersect(b.Keys).Order().ToArray();
                        var compared = PairedBootstrap.compare(Seeds.salt($"{arm.Name}|{reference}|{task}|{name}", 0UL), Significance.Resamples,
                            Rows(a, seeds), Rows(b, seeds));
                        if (compared.IsOk)
                        {
                            var r = compared.ResultValue;
                            cell += string.Create(Inv, $" ({100 * r.Difference:+0.0;-0.0;0.0} [{100 * r.Low:+0.0;-0.0;0.0}, {100 * r.High:+0.0;-0.0;0.0}])");
                            entry["against"] = new Dictionary<string, object?> { ["arm"] = reference, ["difference"] = r.Difference, ["low"] = r.Low, ["high"] = r.High };
                        }
                    }
                    sb.Append(cell).Append(" |");
                    armJson[name] = entry;
                }
                sb.Append('\n');
                taskJson[arm.Name] = armJson;
            }
            sections.Add(sb.ToString());
            perTask[task] = taskJson;
        }
        if (sections.Count == 0) return null;
        md.Append("\n## Results by relation\n\n");
        md.Append($"The world tasks' questions grouped by the relation they ask about (questions per relation in the header). Each cell: " +
                  $"the mean over seeds and questions, in %, and in parentheses its difference from `{reference ?? "(no baseline arm)"}` with the " +
                  "95% paired bootstrap interval over seeds × the relation's questions (descriptive, not corrected for multiplicity). " +
                  "`ssm` masks persons, places, organisations, dates and years, never occupations.\n");
        foreach (var s in sections) md.Append(s);
        return perTask;
    }
}
