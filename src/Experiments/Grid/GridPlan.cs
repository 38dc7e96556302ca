using System.Globalization;

namespace Masking.Experiments.Grid;

public enum CellKind { Pretrain, LearnPolicy, Intermediate, Finetune }

/// <summary>
/// One unit of work with its own run directory (<c>OUT/&lt;Id&gt;</c>): it runs after the cells it depends on
/// and is skipped when its directory says it is finished.
/// </summary>
public sealed record Cell(string Id, CellKind Kind, IReadOnlyList<string> DependsOn)
{
    public string? Arm { get; init; }
    public string? Task { get; init; }
    public int Seed { get; init; }
    public double Fraction { get; init; } = 1.0;
    /// <summary>For learned-policy cells: the config entry.</summary>
    public LearnedPolicySection? Policy { get; init; }

    /// <summary>Finetune cells record a result in the index; the others only prepare.</summary>
    public bool IsResult => Kind == CellKind.Finetune;
}

/// <summary>The cells of a grid in an order that respects their dependencies (stage by stage).</summary>
public static class GridPlan
{
    public static string FractionLabel(double f) => f.ToString("0.###", CultureInfo.InvariantCulture);

    /// <summary>The IPT run a fine-tuning seed starts from: seed s uses IPT seed ((s − 1) mod ipt_seeds) + 1, so
    /// with as many IPT seeds as fine-tuning seeds each fine-tuning run has an IPT run of its own, and the spread
    /// over seeds carries the variance of both stages.</summary>
    public static int IptSeedOf(GridConfig config, int seed) => (seed - 1) % config.IptSeeds + 1;

    /// <summary>ipt/ARM with one IPT seed (the layout of every grid before IPT seeds), else ipt/ARM/seedK.</summary>
    public static string IptCell(GridConfig config, string arm, int iptSeed) =>
        config.IptSeeds == 1 ? $"ipt/{arm}" : $"ipt/{arm}/seed{iptSeed}";

    /// <summary>
    /// A cell's threads: the grid's, and for pre-training (every other cell waits for it) threads × parallel.
    /// Every backend uses this rule, so a result does not depend on where its cell ran.
    /// </summary>
    public static int Threads(GridConfig config, Cell cell) =>
        cell.Kind == CellKind.Pretrain ? config.Threads * config.Parallel : config.Threads;

    /// <summary>Slurm array syntax for sorted indices: 0,2-4,7.</summary>
    public static string ArrayRanges(IReadOnlyList<int> sorted)
    {
        var parts = new List<string>();
        for (var i = 0; i < sorted.Count;)
        {
            var j = i;
            while (j + 1 < sorted.Count && sorted[j + 1] == sorted[j] + 1) j++;
            parts.Add(j == i ? sorted[i].ToString(CultureInfo.InvariantCulture)
                : string.Create(CultureInfo.InvariantCulture, $"{sorted[i]}-{sorted[j]}"));
            i = j + 1;
        }
        return string.Join(',', parts);
    }

    public static IReadOnlyList<Cell> Cells(GridConfig config)
    {
        // With an init model there is no general pre-training: the cells that would wait for it start at once.
        List<Cell> cells = config.Init is null ? [new Cell("pretrain", CellKind.Pretrain, [])] : [];
        string[] Pretrained(params string[] more) => config.Init is null ? ["pretrain", .. more] : more;
        foreach (var p in config.LearnedPolicies)
            cells.Add(new Cell($"policy/{p.Name}", CellKind.LearnPolicy, p.Init is null ? Pretrained() : Pretrained($"policy/{p.Init}")) { Policy = p });
        foreach (var arm in config.Arms.Where(a => a.Policy is not null))
            for (var k = 1; k <= config.IptSeeds; k++)
                cells.Add(new Cell(IptCell(config, arm.Name, k), CellKind.Intermediate, arm.Scorer is null ? Pretrained() : Pretrained($"policy/{arm.Scorer}"))
                { Arm = arm.Name, Seed = k });
        foreach (var arm in config.Arms)
        {
            string[] From(int seed) => arm.Policy is null ? Pretrained() : [IptCell(config, arm.Name, IptSeedOf(config, seed))];
            foreach (var task in config.Tasks)
                for (var seed = 1; seed <= config.Seeds; seed++)
                    cells.Add(new Cell($"finetune/{arm.Name}/{task}/seed{seed}", CellKind.Finetune, From(seed)) { Arm = arm.Name, Task = task, Seed = seed });
            var fractionTasks = config.Finetune.FractionTasks.Count > 0 ? config.Finetune.FractionTasks : config.Tasks;
            if (config.Finetune.FractionArms.Count > 0 && !config.Finetune.FractionArms.Contains(arm.Name)) continue;
            foreach (var fraction in config.Finetune.Fractions.Where(f => f < 1))
                foreach (var task in fractionTasks)
                    for (var seed = 1; seed <= Math.Min(config.Seeds, config.Finetune.FractionSeeds); seed++)
                        cells.Add(new Cell($"finetune/{arm.Name}/{task}/seed{seed}-fraction{FractionLabel(fraction)}", CellKind.Finetune, From(seed))
                        { Arm = arm.Name, Task = task, Seed = seed, Fraction = fraction });
        }
        return cells;
    }

    /// <summary>Cells grouped into waves: every cell's dependencies lie in earlier waves.</summary>
    public static IReadOnlyList<IReadOnlyList<Cell>> Waves(IReadOnlyList<Cell> cells)
    {
        // Depths by recursion, so that a cell may depend on one listed after it (a learned policy's init, say).
        var byId = cells.ToDictionary(c => c.Id);
        var depth = new Dictionary<string, int>();
        int Depth(Cell c, HashSet<string> onPath)
        {
            if (depth.TryGetValue(c.Id, out var known)) return known;
            if (!onPath.Add(c.Id)) throw new InputError($"cell {c.Id} depends on itself (through {string.Join(", ", onPath)})");
            var d = c.DependsOn.Count == 0 ? 0 : c.DependsOn.Max(x => Depth(byId[x], onPath)) + 1;
            onPath.Remove(c.Id);
            return depth[c.Id] = d;
        }
        foreach (var c in cells) Depth(c, []);
        return cells.GroupBy(c => depth[c.Id]).OrderBy(g => g.Key).Select(g => (IReadOnlyList<Cell>)g.ToList()).ToList();
    }
}
