using System.Text;
using System.Text.Json;

namespace Masking.Experiments.Grid;

/// <summary>The report's sections on what went wrong in the cells or was cut from their inputs: failed Slurm
/// cells and the truncation counts of every stage and task.</summary>
public static class CellHealthReport
{
    /// <summary>Cells that failed under Slurm (slurm/failed.tsv, written by cell.sbatch) and have not finished since.</summary>
    public static void WriteFailures(GridConfig config, string outDir, StringBuilder md, TextWriter log)
    {
        var file = Path.Combine(outDir, "slurm", "failed.tsv");
        if (!File.Exists(file)) return;
        var indexed = CellRunner.ReadIndex(outDir).Select(r => r.Cell).ToHashSet();
        var cells = GridPlan.Cells(config).ToDictionary(c => c.Id);
        var failed = File.ReadAllLines(file).Select(l => l.Split('\t')).Where(f => f.Length == 4)
            .Where(f => !cells.TryGetValue(f[0], out var c) || !CellRunner.IsFinished(config, outDir, c, indexed))
            .GroupBy(f => f[0]).Select(g => g.Last()).ToList();
        if (failed.Count == 0) return;
        md.Append("## Failed cells\n\n| cell | Slurm job | exit code | cell log | Slurm log |\n| --- | --- | --- | --- | --- |\n");
        foreach (var f in failed)
        {
            var slurmLog = Path.Combine(outDir, "slurm", "logs", f[1] + ".out");
            md.Append($"| {f[0]} | {f[1]} | {f[2]} | {f[3]} | {slurmLog} |\n");
            log.WriteLine($"report: cell {f[0]} failed in Slurm job {f[1]} (exit {f[2]}); logs: {f[3]}, {slurmLog}");
        }
        md.Append("\nFix the cause, then run `bash " + Path.Combine(outDir, "slurm", "submit.sh") + "` again: finished cells are not submitted again.\n\n");
    }

    /// <summary>How many sources and targets the length limits cut, per stage and per task (never silently).</summary>
    public static void WriteTruncation(GridConfig config, string outDir, StringBuilder md)
    {
        static JsonElement? Read(string path)
        {
            if (!File.Exists(path)) return null;
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            return doc.RootElement.Clone();
        }
        static string Of(JsonElement? t, string field) =>
            t is { } e && e.TryGetProperty(field, out var v) && e.TryGetProperty("examples", out var n) ? $"{v.GetInt32()} of {n.GetInt32()}" : "–";

        var rows = new List<string>();
        foreach (var cell in GridPlan.Cells(config).Where(c => c.Kind is CellKind.Pretrain or CellKind.Intermediate))
        {
            var t = Read(Path.Combine(outDir, cell.Id, "final.json")) is { } f && f.TryGetProperty("truncation", out var tr) ? tr : (JsonElement?)null;
            rows.Add($"| {cell.Id} (epoch-0 masks) | {Of(t, "sources_cut")} | {Of(t, "targets_cut")} |");
        }
        foreach (var task in config.Tasks)
        {
            // Every arm and seed of a task fine-tunes on the same examples: the first finished cell tells.
            var cell = GridPlan.Cells(config).FirstOrDefault(c => c.IsResult && c.Task == task && c.Fraction >= 1 &&
                                                               File.Exists(Path.Combine(outDir, c.Id, "final.json")));
            if (cell is null) { rows.Add($"| {task} | – | – |"); continue; }
            var final = Read(Path.Combine(outDir, cell.Id, "final.json"));
            JsonElement? Part(string name) => final is { } f && f.TryGetProperty("truncation", out var t) && t.TryGetProperty(name, out var p) ? p : null;
            var own = config.Finetune.MaxTargetLengths.ContainsKey(task) ? $" (targets {config.Finetune.TargetLengthFor(task, 0)})" : "";
            rows.Add($"| {task} train{own} | {Of(Part("train"), "sources_cut")} | {Of(Part("train"), "targets_cut")} |");
            rows.Add($"| {task} dev | {Of(Part("dev"), "sources_cut")} | – |");
            var eval = Read(Path.Combine(outDir, cell.Id, "eval-" + config.Evaluation.Split, "metrics.json"));
            var evalCut = eval is { } e && e.TryGetProperty("sources_cut", out var sc) ? $"{sc.GetInt32()} of {e.GetProperty("count").GetInt32()}" : "–";
            rows.Add($"| {task} {config.Evaluation.Split} | {evalCut} | – |");
        }
        var stageTargets = config.Init is null
            ? $" (pre-training {config.Pretrain.MaxTargetLength ?? config.MaxTargetLength}, intermediate pre-training {config.Intermediate.MaxTargetLength ?? config.MaxTargetLength})"
            : $" (intermediate pre-training {config.Intermediate.MaxTargetLength ?? config.MaxTargetLength})";
        md.Append($"\n## Truncation\n\nSources cut to {config.MaxSourceLength} tokens and targets cut to {config.MaxTargetLength}{stageTargets} " +
                  "(the first tokens are kept; a task with a marked mention, AY2, keeps a window around it). A cut target is a shorter " +
                  "thing to learn, a cut source may lose the answer.\n\n");
        md.Append("| what | sources cut | targets cut |\n| --- | --- | --- |\n").Append(string.Join("\n", rows)).Append('\n');
    }
}
