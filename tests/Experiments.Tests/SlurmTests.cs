using System.Diagnostics;
using Masking.Experiments.Grid;
using Xunit;

namespace Masking.Experiments.Tests;

public class SlurmTests
{
    private static void CheckGolden(string name, string actual)
    {
        var path = Path.Combine(Repository.Root, "golden", "slurm", name);
        if (Environment.GetEnvironmentVariable("MASKING_REGENERATE_GOLDEN") == "1")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, actual);
        }
        Assert.True(File.Exists(path), $"missing golden file {path} (regenerate: MASKING_REGENERATE_GOLDEN=1 dotnet test tests/Experiments.Tests)");
        Assert.Equal(File.ReadAllText(path), actual);
    }

    [Fact]
    public void The_demo_grid_as_slurm_scripts_matches_the_golden_files()
    {
        var config = GridConfig.Load(Repository.Config("demo"));
        var s = SlurmBackend.Generate(config, "/opt/masking/masking", "/scratch/demo/grid.json", "/scratch/demo", "/scratch/data");
        CheckGolden("demo.cells.txt", s.CellList);
        CheckGolden("demo.cell.sbatch", s.ArrayScript);
        CheckGolden("demo.submit.sh", s.SubmitScript);
    }

    [Fact]
    public async Task Submitting_calls_sbatch_once_per_stage_each_after_the_previous()
    {
        // A fake sbatch on PATH records its arguments and answers with job ids 100, 101, …
        var bin = CliRunner.TempPath("");
        Directory.CreateDirectory(bin);
        var record = Path.Combine(bin, "calls.txt");
        File.WriteAllText(Path.Combine(bin, "sbatch"),
            $"#!/bin/bash\necho \"$@\" >> {record}\nn=$(wc -l < {record})\necho $((99 + n))\n");
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(Path.Combine(bin, "sbatch"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var outDir = CliRunner.TempPath("");
        var p = Process.Start(new ProcessStartInfo(MaskingProcess.Executable, ["grid", "--config", Repository.Config("smoke"), "--out", outDir, "--backend", "slurm"])
        {
            RedirectStandardError = true, RedirectStandardOutput = true, Environment = { ["PATH"] = bin + ":" + Environment.GetEnvironmentVariable("PATH") },
        })!;
        var err = p.StandardError.ReadToEndAsync();
        await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        Assert.True(p.ExitCode == 0, await err);
        var calls = File.ReadAllLines(record);
        var waves = GridPlan.Waves(GridPlan.Cells(GridConfig.Load(Repository.Config("smoke"))));
        Assert.Equal(waves.Count, calls.Length);
        Assert.DoesNotContain("--dependency", calls[0]);
        for (var i = 1; i < calls.Length; i++) Assert.Contains($"--dependency=afterok:{99 + i}", calls[i]);
        Assert.Contains($"--array=0-{waves[^1].Count - 1}", calls[^1]);
        var cells = File.ReadAllLines(Path.Combine(outDir, "slurm", "cells.txt"));
        Assert.Equal("pretrain", cells[0]);
        Assert.Equal(GridPlan.Cells(GridConfig.Load(Repository.Config("smoke"))).Count, cells.Length);
    }
}
