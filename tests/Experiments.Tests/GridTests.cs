using System.Globalization;
using System.Diagnostics;
using System.Text.Json;
using Masking.Experiments.Grid;
using Masking.Experiments.Training;
using Xunit;

namespace Masking.Experiments.Tests;

/// <summary>Repository folders the grid tests read (configs/, golden/).</summary>
public static class Repository
{
    public static string Root
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (Directory.Exists(Path.Combine(dir.FullName, "configs")) && Directory.Exists(Path.Combine(dir.FullName, "golden")))
                    return dir.FullName;
            throw new InvalidOperationException("repository root not found above the test binaries");
        }
    }

    public static string Config(string name) => Path.Combine(Root, "configs", name + ".json");
}

public class GridConfigTests
{
    [Theory]
    [InlineData("demo")]
    [InlineData("smoke")]
    [InlineData("paper")]
    public void Shipped_configs_load_and_are_consistent(string name)
    {
        var config = GridConfig.Load(Repository.Config(name));
        Assert.Null(config.Problem());
        var cells = GridPlan.Cells(config);
        // Every cell's dependencies come before it, and the no-IPT arm has no intermediate cell.
        var seen = new HashSet<string>();
        foreach (var c in cells)
        {
            Assert.All(c.DependsOn, d => Assert.Contains(d, seen));
            seen.Add(c.Id);
        }
        Assert.DoesNotContain(cells, c => c.Id == "ipt/none");
        Assert.Equal(config.Arms.Count * config.Tasks.Count * config.Seeds, cells.Count(c => c.IsResult && c.Fraction >= 1));
    }

    [Fact]
    public void IPT_seeds_give_each_fine_tuning_seed_its_own_IPT_run_in_turn()
    {
        var config = GridConfig.Load(Repository.Config("smoke")) with { IptSeeds = 2, Seeds = 3 };
        Assert.Null(config.Problem());
        var cells = GridPlan.Cells(config).ToDictionary(c => c.Id);
        Assert.True(cells.ContainsKey("ipt/ssm/seed1") && cells.ContainsKey("ipt/ssm/seed2"));
        Assert.False(cells.ContainsKey("ipt/ssm"));
        Assert.Equal(["ipt/ssm/seed1"], cells["finetune/ssm/world-cqa/seed1"].DependsOn);
        Assert.Equal(["ipt/ssm/seed2"], cells["finetune/ssm/world-cqa/seed2"].DependsOn);
        Assert.Equal(["ipt/ssm/seed1"], cells["finetune/ssm/world-cqa/seed3"].DependsOn);
        // One IPT seed keeps the layout every grid had.
        Assert.Contains("ipt/ssm", GridPlan.Cells(config with { IptSeeds = 1 }).Select(c => c.Id));
        Assert.Equal("ipt_seeds: expected at least 1", (config with { IptSeeds = 0 }).Problem());
    }

    [Fact]
    public void The_demo_has_every_arm_the_control_of_meta_a_task_of_each_family_and_two_seeds()
    {
        var demo = GridConfig.Load(Repository.Config("demo"));
        Assert.Equal(["none", "orig", "rand", "ssm", "supervised", "meta", "meta-0"], demo.Arms.Select(a => a.Name));
        Assert.Equal(["world-cbqa", "world-occupation", "world-cqa", "world-bio"], demo.Tasks);
        Assert.Equal(2, demo.Seeds);
        // The control arm is meta's initialisation with no meta-step, deployed as meta is.
        var meta = demo.LearnedPolicies.Single(p => p.Name == "meta");
        var control = demo.LearnedPolicies.Single(p => p.Name == "meta-0");
        Assert.Equal((meta.Kind, meta.Task, meta.Init, 0), (control.Kind, control.Task, control.Init, control.Steps));
        Assert.Equal(demo.Arms.Single(a => a.Name == "meta").Policy, demo.Arms.Single(a => a.Name == "meta-0").Policy);
        // The long output has room for its biographies.
        Assert.Equal(64, demo.Finetune.TargetLengthFor("world-bio", demo.MaxTargetLength));
    }

    [Theory]
    [InlineData("{\n  \"name\": \"x\",\n  \"arms\": [{\"name\": \"none\"}],\n  \"tasks\": [\"world-cqa\"],\n  \"stepz\": 3\n}", ":5:", "stepz")]
    [InlineData("{\n  \"name\": \"x\",\n  \"arms\": [{\"name\": \"none\"}],\n  \"tasks\": [\"world-cqa\"],\n  \"seeds\": \"three\"\n}", ":5:", "")]
    [InlineData("{\n  \"name\": \"x\",\n  \"tasks\": [\"world-cqa\"]\n}", ":", "arms")]
    [InlineData("{\"name\": \"x\", \"arms\": [{\"name\": \"a\", \"policy\": \"scored\", \"scorer\": \"nope\"}], \"tasks\": [\"world-cqa\"]}", ":0:", "scorer names no learned policy")]
    [InlineData("{\"name\": \"x\", \"arms\": [{\"name\": \"a\", \"policy\": \"ssm:p=\"}], \"tasks\": [\"world-cqa\"]}", ":0:", "arms: 'a'")]
    [InlineData("{\"name\": \"x\", \"arms\": [{\"name\": \"none\"}], \"tasks\": [\"no-such-task\"]}", ":0:", "unknown task")]
    [InlineData("{\"name\": \"x\", \"arms\": [{\"name\": \"none\"}], \"tasks\": [\"world-cqa\"], \"retries\": -1}", ":0:", "retries")]
    [InlineData("{\"name\": \"x\", \"arms\": [{\"name\": \"none\"}], \"tasks\": [\"world-cqa\"], \"finetune\": {\"max_target_lengths\": {\"world-bio\": 64}}}", ":0:", "'world-bio' is not one of the grid's tasks")]
    [InlineData("{\"name\": \"x\", \"arms\": [{\"name\": \"none\"}], \"tasks\": [\"world-bio\"], \"finetune\": {\"max_target_lengths\": {\"world-bio\": 1}}}", ":0:", "expected at least 2")]
    [InlineData("{\"name\": \"x\", \"learned_policies\": [{\"name\": \"s\", \"kind\": \"supervised\", \"task\": \"world-cqa\", \"encoder\": \"bert\"}], \"arms\": [{\"name\": \"none\"}], \"tasks\": [\"world-cqa\"]}", ":0:", "encoder expected lm or scratch")]
    [InlineData("{\"name\": \"x\", \"arms\": [{\"name\": \"none\"}], ", ":1:", "")]
    public void Malformed_configs_exit_2_naming_file_and_line(string json, string line, string what)
    {
        var path = CliRunner.TempFile(json, ".json");
        var r = CliRunner.Run("grid", "--config", path, "--out", CliRunner.TempPath(""));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(path + line, r.Stderr);
        Assert.Contains(what, r.Stderr);
        Assert.Single(r.Stderr.Trim().Split('\n'));
    }

    [Fact]
    public void Unknown_presets_are_named()
    {
        var r = CliRunner.Run("run", "--preset", "huge");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("known: demo, paper, real-smoke, smoke", r.Stderr);
    }
}

public class GridIndexTests
{
    [Fact]
    public void Concurrent_appends_keep_every_line_whole()
    {
        var dir = CliRunner.TempPath("");
        Directory.CreateDirectory(dir);
        Parallel.For(0, 400, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
            CellRunner.Append(dir, new CellResult($"finetune/a/t/seed{i}", "a", "t", i, 1.0, "em", i / 400.0, [[100, 0.5], [200, 0.6]])));
        var lines = File.ReadAllLines(CellRunner.IndexFile(dir));
        Assert.Equal(400, lines.Length);
        Assert.All(lines, l => JsonDocument.Parse(l));
        Assert.Equal(400, CellRunner.ReadIndex(dir).Count);
    }

    [Fact]
    public void A_torn_last_line_is_ignored_and_the_last_result_of_a_cell_wins()
    {
        var dir = CliRunner.TempPath("");
        Directory.CreateDirectory(dir);
        CellRunner.Append(dir, new CellResult("c1", "a", "t", 1, 1.0, "em", 0.1, []));
        CellRunner.Append(dir, new CellResult("c1", "a", "t", 1, 1.0, "em", 0.2, []));
        File.AppendAllText(CellRunner.IndexFile(dir), "{\"cell\":\"c2\",\"ar");
        var index = CellRunner.ReadIndex(dir);
        Assert.Equal(0.2, Assert.Single(index).Score);
    }

    [Fact]
    public void Zipf_exponent_is_recovered_from_an_exact_power_law()
    {
        var counts = Enumerable.Range(1, 200).Select(r => (int)Math.Round(100000 * Math.Pow(r, -1.2))).ToList();
        Assert.InRange(MaskAnalysis.Zipf(counts), 1.19, 1.21);
        Assert.True(double.IsNaN(MaskAnalysis.Zipf([5, 1])));
    }
}

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

/// <summary>The whole protocol in one command: the seconds-long `smoke` preset of `masking run`.</summary>
public class GridRunTests
{
    private static (Process Process, Task<string> Err) Start(string outDir) =>
        StartWith(["run", "--preset", "smoke", "--out", outDir]);

    private static (Process Process, Task<string> Err) StartWith(string[] args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(MaskingProcess.Executable, args) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) info.Environment[k] = v;
        var p = Process.Start(info)!;
        var err = p.StandardError.ReadToEndAsync();
        _ = p.StandardOutput.ReadToEndAsync();
        return (p, err);
    }

    [Fact]
    public async Task Run_writes_the_report_with_every_table_and_plot_and_a_killed_run_finishes_the_rest_without_redoing_cells()
    {
        var outDir = CliRunner.TempPath("");
        var (first, _) = Start(outDir);
        // Kill the whole run (grid and its cell processes) once some results are in.
        var index = Path.Combine(outDir, "results.jsonl");
        while (!(File.Exists(index) && File.ReadAllLines(index).Length >= 2) && !first.HasExited) await Task.Delay(50);
        Assert.False(first.HasExited, "the smoke grid finished before it could be interrupted");
        first.Kill(entireProcessTree: true);
        await first.WaitForExitAsync();
        var before = File.ReadAllLines(index).Where(l => l.EndsWith('}')).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("cell").GetString()!).ToList();
        var pretrainLog = File.ReadAllText(Path.Combine(outDir, "logs", "pretrain.log"));

        // One of its cells dies of SIGKILL after its step-10 checkpoint (as the out-of-memory killer or a native crash
        // would end it): the grid runs it again. The cell kills itself, so the kill lands at the same point on any machine.
        var (second, secondErr) = StartWith(["run", "--preset", "smoke", "--out", outDir], new Dictionary<string, string>
        {
            [FaultInjection.StepVariable] = "10",
            [FaultInjection.OnceVariable] = CliRunner.TempPath(".killed"),
        });
        await second.WaitForExitAsync();
        var err = await secondErr;
        Assert.True(second.ExitCode == 0, err);
        Assert.True(err.Contains("died of signal 9 (exit 137); running it again from its last checkpoint (retry 1 of 1)"), err);
        Assert.Matches(@"\d+ already finished", err);
        Assert.DoesNotContain("start pretrain", err);
        Assert.Equal(pretrainLog, File.ReadAllText(Path.Combine(outDir, "logs", "pretrain.log")));
        foreach (var cell in before) Assert.DoesNotContain($"start {cell}\n", err);

        var config = GridConfig.Load(Repository.Config("smoke"));
        var results = File.ReadAllLines(index).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("cell").GetString()).ToList();
        Assert.Equal(GridPlan.Cells(config).Count(c => c.IsResult), results.Count);
        Assert.Equal(results.Count, results.Distinct().Count());

        var report = File.ReadAllText(Path.Combine(outDir, "report.md"));
        foreach (var arm in new[] { "none (no IPT)", "ssm", "supervised", "meta" }) Assert.Contains($"| {arm} |", report);
        foreach (var section in new[] { "## Results", "## Differences", "## Summary", "## Learning efficiency", "## Transfer of learned policies", "## What the policies mask" })
            Assert.Contains(section, report);
        // world-cqa has two options: chance is 50%, a row of the table; its questions are answered by rank classification.
        Assert.Contains("| chance / majority | 50.0 (chance) |", report);
        Assert.Contains("answered by rank classification", report);
        Assert.Contains("Against `none`:", report);
        Assert.Contains("Against chance (the multiple-choice tasks;", report);
        Assert.DoesNotContain("†", report);
        foreach (var png in new[] { "curve-steps-world-cqa.png", "curve-fraction-world-cqa.png", "transfer.png", "pos.png", "zipf.png" })
        {
            var bytes = File.ReadAllBytes(Path.Combine(outDir, "plots", png));
            Assert.True(bytes.Length > 5000, png);
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes[..4]);
            Assert.Contains($"(plots/{png})", report);
        }
        var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "results.json"))).RootElement;
        Assert.Equal(2, json.GetProperty("table").GetProperty("ssm").GetProperty("world-cqa").GetProperty("scores").GetArrayLength());
        // Every arm against no IPT: a paired interval over seeds × test questions, and a Holm-adjusted p.
        var against = json.GetProperty("table").GetProperty("ssm").GetProperty("world-cqa").GetProperty("against").GetProperty("none");
        Assert.True(against.GetProperty("low").GetDouble() <= against.GetProperty("difference").GetDouble());
        Assert.True(against.GetProperty("p_holm").GetDouble() >= against.GetProperty("p").GetDouble());
        Assert.Equal(2, against.GetProperty("seeds").GetInt32());

        var third = StartWith(["grid", "--config", Path.Combine(outDir, "grid.json"), "--out", outDir]);
        await third.Process.WaitForExitAsync();
        Assert.Contains($"{GridPlan.Cells(config).Count} already finished, 0 to run", await third.Err);
    }

    /// <summary>
    /// The protocol on real inputs (long contexts, unicode, several gold answers, the official metrics): the data
    /// root when this machine has one, else the fixtures in tests/fixtures/data.
    /// </summary>
    [Fact]
    public async Task Real_smoke_runs_every_stage_on_real_tasks_and_reports_what_was_truncated()
    {
        var outDir = CliRunner.TempPath("");
        var data = CliRunner.DataRootFound ?? CliRunner.FixtureRoot;
        var (run, err) = StartWith(["run", "--preset", "real-smoke", "--data", data, "--out", outDir]);
        await run.WaitForExitAsync();
        Assert.True(run.ExitCode == 0, await err);
        var report = File.ReadAllText(Path.Combine(outDir, "report.md"));
        foreach (var row in new[] { "| pretrain (epoch-0 masks) |", "| ipt/ssm (epoch-0 masks) |", "| nq train |", "| ay2 test |", "| quartz dev |" })
            Assert.Contains(row, report);
        Assert.Matches(@"\| ay2 train \| \d+ of \d+ \|", report);
        var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "results.json"))).RootElement.GetProperty("table");
        foreach (var arm in new[] { "none", "orig", "ssm" })
            foreach (var task in new[] { "nq", "ay2", "quartz" })
                Assert.Equal(1, json.GetProperty(arm).GetProperty(task).GetProperty("scores").GetArrayLength());
        // ssm found its spans on WikiText with the NER model: it masks proper nouns far more than the corpus has them.
        var lines = report.Split('\n');
        var header = Array.FindIndex(lines, l => l.StartsWith("| policy | ") && l.Contains("PROPN"));
        Assert.True(header >= 0, "no POS table");
        var column = Array.IndexOf(lines[header].Split('|').Select(c => c.Trim()).ToArray(), "PROPN");
        double Share(string row) => double.Parse(lines.Skip(header).First(l => l.StartsWith($"| {row} |")).Split('|')[column], CultureInfo.InvariantCulture);
        Assert.True(Share("ssm") > 2 * Share("(corpus)"), $"ssm PROPN {Share("ssm")}% vs corpus {Share("(corpus)")}%");
        var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "finetune", "ssm", "ay2", "seed1", "eval-test", "metrics.json"))).RootElement;
        Assert.True(metrics.GetProperty("count").GetInt32() > 0);
        Assert.True(metrics.TryGetProperty("sources_cut", out _));
    }

    [Fact]
    public void A_directory_of_another_grid_is_refused()
    {
        var outDir = CliRunner.TempPath("");
        Directory.CreateDirectory(outDir);
        File.WriteAllText(Path.Combine(outDir, "grid.json"), GridConfig.Load(Repository.Config("demo")).ToJson() + "\n");
        var r = CliRunner.Run("run", "--preset", "smoke", "--out", outDir);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("another grid configuration", r.Stderr);
    }
}

public class GridEstimateTests
{
    private static Cell Finetune(string task, int seed) => new($"finetune/a/{task}/seed{seed}", CellKind.Finetune, ["pretrain"]) { Task = task, Seed = seed };

    [Fact]
    public void Cells_are_expected_to_take_as_long_as_finished_ones_of_their_kind_and_task()
    {
        var estimate = new GridEstimate(parallel: 2);
        estimate.Finished(new Cell("pretrain", CellKind.Pretrain, []), 600);
        estimate.Finished(Finetune("nq", 1), 30);
        estimate.Finished(Finetune("ay2", 1), 90);
        Assert.Equal(30, estimate.Expected(Finetune("nq", 2)));
        Assert.Equal(90, estimate.Expected(Finetune("ay2", 2)));
        Assert.Equal(60, estimate.Expected(Finetune("quartz", 1))); // no quartz cell yet: any fine-tuning cell
        Assert.Null(estimate.Expected(new Cell("ipt/rand", CellKind.Intermediate, ["pretrain"])));
        // Pending 2 × 30 s + a running ay2 cell 40 s in: (60 + 50) / 2 parallel = 55 s; the IPT cell is named, not guessed.
        var left = estimate.Left([Finetune("nq", 2), Finetune("nq", 3), new Cell("ipt/rand", CellKind.Intermediate, ["pretrain"])],
            [(Finetune("ay2", 2), 40.0)]);
        Assert.Equal("about 00:55 left + 1 intermediate cell not yet timed", left);
        Assert.Equal("2 intermediate cells not yet timed",
            estimate.Left([new Cell("ipt/a", CellKind.Intermediate, []), new Cell("ipt/b", CellKind.Intermediate, [])], []));
    }

    [Theory]
    [InlineData(65, "01:05")]
    [InlineData(3599, "59:59")]
    [InlineData(3723, "1:02:03")]
    [InlineData(93600, "26:00:00")]
    public void Clocks_show_hours_once_there_are_any(int seconds, string shown) =>
        Assert.Equal(shown, Cli.Durations.Clock(TimeSpan.FromSeconds(seconds)));
}

public class GridDryRunTests
{
    /// <summary>The paper preset starts from a Hugging Face BART directory (here one the parity script generates,
    /// with the 512 positions the preset's inputs need): the dry run reads it whole and lists the cells, with no
    /// general pre-training among them.</summary>
    [PythonTorchFact]
    public void The_paper_preset_dry_run_validates_its_init_model_and_lists_the_cells_without_pretraining()
    {
        var init = CliRunner.TempPath("");
        HuggingFaceTests.Python("make", init, "5", "512");
        var outDir = CliRunner.TempPath("");
        var r = CliRunner.Run("grid", "--config", Repository.Config("paper"), "--init", init, "--out", outDir, "--dry-run");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var cells = GridPlan.Cells(GridConfig.Load(Repository.Config("paper")) with { Init = init });
        Assert.DoesNotContain(cells, c => c.Kind == CellKind.Pretrain);
        Assert.Contains($"init {init}: d_model 32, 2+2 layers, 4 heads", r.Stdout);
        Assert.Contains($"grid paper: {cells.Count} cells in ", r.Stdout);
        Assert.Contains("  finetune/ssm/nq/seed5\n", r.Stdout);
        Assert.Contains("  policy/supervised-nq\n", r.Stdout);
        Assert.False(Directory.Exists(Path.Combine(outDir, "pretrain")), "a dry run trained");
        Assert.False(Directory.Exists(Path.Combine(outDir, "ipt")), "a dry run trained");
    }

    [Fact]
    public void A_dry_run_whose_init_model_is_missing_or_too_short_says_so()
    {
        var outDir = CliRunner.TempPath("");
        var missing = CliRunner.TempPath("");
        var r = CliRunner.Run("grid", "--config", Repository.Config("paper"), "--init", missing, "--out", outDir, "--dry-run");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains($"{Path.Combine(missing, "config.json")}:0: init: expected a Hugging Face BART directory", r.Stderr);
    }

    [PythonTorchFact]
    public void A_dry_run_refuses_an_init_model_with_fewer_positions_than_the_inputs()
    {
        var init = CliRunner.TempPath("");
        HuggingFaceTests.Python("make", init, "5");
        var r = CliRunner.Run("grid", "--config", Repository.Config("paper"), "--init", init, "--out", CliRunner.TempPath(""), "--dry-run");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("512 is more than init's 64 positions", r.Stderr);
    }

    [Fact]
    public void A_local_dry_run_lists_the_cells_by_stage_and_trains_nothing()
    {
        var outDir = CliRunner.TempPath("");
        var r = CliRunner.Run("grid", "--config", Repository.Config("demo"), "--out", outDir, "--dry-run");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var cells = GridPlan.Cells(GridConfig.Load(Repository.Config("demo")));
        Assert.StartsWith($"grid demo: {cells.Count} cells in ", r.Stdout);
        Assert.Contains("  pretrain\n", r.Stdout);
        Assert.Contains("  finetune/ssm/world-cbqa/seed2\n", r.Stdout);
        Assert.False(Directory.Exists(Path.Combine(outDir, "pretrain")), "a dry run trained");
    }
}
