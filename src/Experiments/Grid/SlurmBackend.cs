using System.Diagnostics;
using System.Text;

namespace Masking.Experiments.Grid;

/// <summary>
/// Writes a grid as Slurm work under <c>OUT/slurm/</c>: <c>cells.txt</c> (one cell id per line, stage by stage),
/// <c>cell.sbatch</c> (an array job whose task i runs line i+1 with <c>masking grid cell</c>) and
/// <c>submit.sh</c>, which submits that one script as one array job per stage, each stage waiting for the
/// previous one to succeed (<c>--dependency=afterok</c>): a cell's inputs always exist when it starts.
/// Cells append their results to the shared index themselves, so the report can be made on any node.
/// </summary>
public static class SlurmBackend
{
    public sealed record Scripts(string CellList, string ArrayScript, string SubmitScript);

    /// <summary>The three files' contents, for fixed paths (what the golden test pins).</summary>
    public static Scripts Generate(GridConfig config, string masking, string configPath, string outDir, string? dataRoot)
    {
        var waves = GridPlan.Waves(GridPlan.Cells(config));
        var cellList = string.Concat(waves.SelectMany(w => w).Select(c => c.Id + "\n"));
        var slurm = config.Slurm;
        var array = new StringBuilder();
        array.Append("#!/bin/bash\n");
        array.Append($"#SBATCH --job-name=masking-{config.Name}\n");
        if (slurm.Partition.Length > 0) array.Append($"#SBATCH --partition={slurm.Partition}\n");
        array.Append($"#SBATCH --time={slurm.Time}\n");
        array.Append($"#SBATCH --cpus-per-task={slurm.CpusPerTask}\n");
        array.Append($"#SBATCH --mem={slurm.Memory}\n");
        if (slurm.Gres.Length > 0) array.Append($"#SBATCH --gres={slurm.Gres}\n");
        array.Append($"#SBATCH --output={outDir}/slurm/logs/%A_%a.out\n");
        array.Append("# Array task i runs cell number FIRST+i of cells.txt (FIRST is passed by submit.sh per stage). A cell that\n");
        array.Append("# fails is recorded in slurm/failed.tsv (cell, job, exit code, log), which `grid report` lists.\n");
        array.Append("set -euo pipefail\n");
        array.Append("FIRST=\"$1\"\n");
        array.Append($"CELL=$(sed -n \"$((FIRST + SLURM_ARRAY_TASK_ID))p\" {outDir}/slurm/cells.txt)\n");
        array.Append($"LOG=\"{outDir}/logs/${{CELL//\\//_}}.log\"\n");
        array.Append("status=0\n");
        array.Append($"{masking} grid cell --config {configPath} --out {outDir} --cell \"$CELL\"");
        array.Append(dataRoot is null ? "" : $" --data {dataRoot}");
        array.Append(" --log \"$LOG\" || status=$?\n");
        array.Append("if [ \"$status\" -ne 0 ]; then\n");
        array.Append($"    printf '%s\\t%s\\t%s\\t%s\\n' \"$CELL\" \"${{SLURM_ARRAY_JOB_ID}}_${{SLURM_ARRAY_TASK_ID}}\" \"$status\" \"$LOG\" >> {outDir}/slurm/failed.tsv\n");
        array.Append("fi\n");
        array.Append("exit \"$status\"\n");

        var submit = new StringBuilder();
        submit.Append("#!/bin/bash\n");
        submit.Append($"# Submits grid '{config.Name}': {waves.Sum(w => w.Count)} cells in {waves.Count} stages, each stage one array job of its\n");
        submit.Append("# unfinished cells, after the previous stage has succeeded. Safe to run again once the earlier jobs have left\n");
        submit.Append("# the queue: finished cells are not submitted again.\n");
        submit.Append("set -euo pipefail\n");
        submit.Append($"mkdir -p {outDir}/slurm/logs {outDir}/logs\n");
        submit.Append($"rm -f {outDir}/slurm/failed.tsv\n");
        submit.Append("previous=\"\"\n");
        var first = 1;
        foreach (var wave in waves)
        {
            var what = string.Join(", ", wave.GroupBy(c => c.Kind).Select(g => $"{g.Count()} {g.Key.ToString().ToLowerInvariant()}"));
            submit.Append($"# {what}\n");
            submit.Append($"todo=$({masking} grid pending --config {configPath} --out {outDir} --first {first} --count {wave.Count})\n");
            submit.Append("if [ -n \"$todo\" ]; then\n");
            submit.Append($"    previous=$(sbatch --parsable --array=\"$todo\" ${{previous:+--dependency=afterok:$previous}} {outDir}/slurm/cell.sbatch {first})\n");
            submit.Append($"    echo \"submitted job $previous (cells {first}-{first + wave.Count - 1} of cells.txt: array $todo)\"\n");
            submit.Append("fi\n");
            first += wave.Count;
        }
        submit.Append($"echo \"when the last job has finished: {masking} grid report --config {configPath} --out {outDir}\"\n");
        return new Scripts(cellList, array.ToString(), submit.ToString());
    }

    /// <summary>Writes the scripts and, unless <paramref name="dryRun"/>, runs submit.sh (which calls sbatch).</summary>
    public static int Submit(GridConfig config, string configPath, string outDir, string? dataRoot, bool dryRun, TextWriter log)
    {
        var (file, prefix) = LocalBackend.Self();
        var masking = string.Join(' ', [file, .. prefix]);
        var scripts = Generate(config, masking, configPath, outDir, dataRoot);
        var dir = Path.Combine(outDir, "slurm");
        Directory.CreateDirectory(dir);
        Training.RunDirectory.WriteAtomically(Path.Combine(dir, "cells.txt"), scripts.CellList);
        Training.RunDirectory.WriteAtomically(Path.Combine(dir, "cell.sbatch"), scripts.ArrayScript);
        Training.RunDirectory.WriteAtomically(Path.Combine(dir, "submit.sh"), scripts.SubmitScript);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(Path.Combine(dir, "submit.sh"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        log.WriteLine($"grid {config.Name}: Slurm scripts in {dir}");
        if (dryRun)
        {
            log.WriteLine($"grid: --dry-run: not submitted; submit with: bash {Path.Combine(dir, "submit.sh")}");
            return 0;
        }
        var info = new ProcessStartInfo("bash") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(Path.Combine(dir, "submit.sh"));
        Process process;
        try { process = Process.Start(info)!; }
        catch (System.ComponentModel.Win32Exception e) { throw new InputError($"grid --backend slurm: cannot run bash ({e.Message})"); }
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        log.Write(stdout.Result);
        if (process.ExitCode != 0)
            throw new InputError($"{Path.Combine(dir, "submit.sh")}:0: sbatch failed (is Slurm installed here?): {stderr.Result.Trim().Split('\n').LastOrDefault()}");
        return 0;
    }
}
