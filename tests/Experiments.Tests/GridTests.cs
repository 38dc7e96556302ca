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
    [InlineData("explore")]
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
    [InlineData("{\"name\": \"x\", \"arms\": [{\"name\": \"a\", \"policy\": \"scored\", \"scorer\": \"nope\"}], \"tasks\": [\"world-cqa\"]}", ":1:", "scorer names no learned policy")]
    [InlineData("{\"name\": \"x\", \"arms\": [{\"name\": \"a\", \"policy\": \"ssm:p=\"}], \"tasks\": [\"world-cqa\"]}", ":1:", "arms: 'a'")]
    [InlineData("{\"name\": \"x\", \"arms\": [{\"name\": \"none\"}], \"tasks\": [\"no-such-task\"]}", ":1:", "unknown task")]
    [InlineData("{\"name\": \"x\", \"arms\": [{\"name\": \"none\"}], \"tasks\": [\"world-cqa\"], \"retries\": -1}", ":1:", "retries")]
    [InlineData("{\"name\": \"x\", \"arms\": [{\"name\": \"none\"}], \"tasks\": [\"world-cqa\"], \"finetune\": {\"max_target_lengths\": {\"world-bio\": 64}}}", ":1:", "'world-bio' is not one of the grid's tasks")]
    [InlineData("{\"name\": \"x\", \"arms\": [{\"name\": \"none\"}], \"tasks\": [\"world-bio\"], \"finetune\": {\"max_target_lengths\": {\"world-bio\": 1}}}", ":1:", "expected at least 2")]
    [InlineData("{\"name\": \"x\", \"learned_policies\": [{\"name\": \"s\", \"kind\": \"supervised\", \"task\": \"world-cqa\", \"encoder\": \"bert\"}], \"arms\": [{\"name\": \"none\"}], \"tasks\": [\"world-cqa\"]}", ":1:", "encoder expected lm or scratch")]
    [InlineData("{\"name\": \"x\", \"arms\": [{\"name\": \"none\"}], ", ":1:", "")]
    // Problems found after reading name the field's own line; .NET's type names never show.
    [InlineData("{\n\"name\": \"x\",\n\"arms\": [{\"name\": \"none\"}],\n\"tasks\": [\"world-cqa\"],\n\"retries\": -1\n}", ":5:", "retries")]
    [InlineData("{\n\"name\": \"x\",\n\"arms\": [{\"name\": \"none\"}],\n\"tasks\": [\"world-cqa\"],\n\"finetune\": {\n\"eval_every\": 0}\n}", ":6:", "finetune.eval_every: expected at least 1, got 0")]
    [InlineData("{\n\"name\": \"x\",\n\"arms\": [{\"name\": \"none\"}],\n\"tasks\": [\"world-cqa\"],\n\"vocab_size\": 0\n}", ":5:", "vocab_size: expected at least 400, got 0")]
    [InlineData("{\n\"name\": \"x\",\n\"arms\": [{\"name\": \"none\"}],\n\"tasks\": [\"world-cqa\"],\n\"batch_size\": -1\n}", ":5:", "batch_size: expected at least 1, got -1")]
    [InlineData("{\n\"name\": \"x\",\n\"arms\": [{\"name\": \"none\"}],\n\"tasks\": [\"world-cqa\"],\n\"pretrain\": {\"steps\": 0}\n}", ":5:", "pretrain.steps: expected at least 1, got 0")]
    [InlineData("{\n\"name\": \"x\",\n\"model\": \"tiny\",\n\"arms\": [{\"name\": \"none\"}],\n\"model\": \"micro\",\n\"tasks\": [\"world-cqa\"]\n}", ":5:", "model: expected each field once (first on line 3)")]
    [InlineData("{\n\"name\": \"x\",\n\"model\": null,\n\"arms\": [{\"name\": \"none\"}],\n\"tasks\": [\"world-cqa\"]\n}", ":3:", "model: expected a value, found null")]
    [InlineData("{\n\"name\": \"x\",\n\"arms\": [{\"name\": \"none\"}],\n\"tasks\": [\"world-cqa\"],\n\"seeds\": \"three\"\n}", ":5:", "seeds: expected an integer")]
    [InlineData("{\n\"name\": \"x\",\n\"learned_policies\": [\n{\"name\": \"a\", \"kind\": \"supervised\", \"task\": \"world-cqa\", \"init\": \"b\"},\n{\"name\": \"b\", \"kind\": \"supervised\", \"task\": \"world-cqa\",\n\"init\": \"a\"}],\n\"arms\": [{\"name\": \"none\"}],\n\"tasks\": [\"world-cqa\"]\n}", ":4:", "init goes round in a cycle (a → b → a)")]
    [InlineData("{\n\"name\": \"x\",\n\"learned_policies\": [\n{\"name\": \"a\", \"kind\": \"supervised\", \"task\": \"world-cqa\"},\n{\"name\": \"a\", \"kind\": \"meta\", \"task\": \"world-cqa\"}],\n\"arms\": [{\"name\": \"none\"}],\n\"tasks\": [\"world-cqa\"]\n}", ":4:", "learned_policies: 'a': name used twice")]
    // Sweeps: the field's line, the knob's own range.
    [InlineData("{\n\"name\": \"x\",\n\"arms\": [{\"name\": \"none\"}],\n\"tasks\": [\"world-cqa\"],\n\"sweeps\": [{\"policy\": \"rand\",\n\"knob\": \"q\",\n\"values\": [0.1,\n2]}]\n}", ":6:", "sweeps[0].knob: policy 'rand' has no knob 'q'; its knobs: p,")]
    [InlineData("{\n\"name\": \"x\",\n\"arms\": [{\"name\": \"none\"}],\n\"tasks\": [\"world-cqa\"],\n\"sweeps\": [{\"policy\": \"rand\",\n\"knob\": \"p\",\n\"values\": [0.1,\n2]}]\n}", ":8:", "sweeps[0].values[1]: knob 'p' of policy 'rand' expects a number in [0, 1], got 2")]
    [InlineData("{\n\"name\": \"x\",\n\"arms\": [{\"name\": \"none\"}],\n\"tasks\": [\"world-cqa\"],\n\"sweeps\": [{\"policy\": \"mix(rand:1)\",\n\"knob\": \"p\",\n\"values\": [0.1]}]\n}", ":5:", "sweeps[0].policy: expected a named policy")]
    [InlineData("{\n\"name\": \"x\",\n\"arms\": [{\"name\": \"none\"}],\n\"tasks\": [\"world-cqa\"],\n\"sweeps\": [{\"policy\": \"rand:mlm_probability=0.2\",\n\"knob\": \"p\",\n\"values\": [0.1]}]\n}", ":5:", "sweeps[0].policy: sets the swept knob 'p' itself")]
    [InlineData("{\n\"name\": \"x\",\n\"arms\": [{\"name\": \"none\"}],\n\"tasks\": [\"world-cqa\"],\n\"sweeps\": [{\"policy\": \"rand\",\n\"knob\": \"p\",\n\"values\": []}]\n}", ":7:", "sweeps[0].values: expected at least one value")]
    [InlineData("{\n\"name\": \"x\",\n\"arms\": [{\"name\": \"none\"}],\n\"tasks\": [\"world-cqa\"],\n\"sweeps\": [{\"policy\": \"rand\",\n\"knob\": \"p\",\n\"values\": [0.1, 0.1]}]\n}", ":7:", "expected each value once, found 0.1 twice")]
    [InlineData("{\n\"name\": \"x\",\n\"arms\": [{\"name\": \"none\"}],\n\"tasks\": [\"world-cqa\"],\n\"sweeps\": [{\"policy\": \"rand\",\n\"knob\": \"p\",\n\"values\": [0.1]},\n{\"policy\": \"rand\", \"knob\": \"p\", \"values\": [0.1]}]\n}", ":", "arms: the name 'rand-p0.1' is used twice")]
    public void Malformed_configs_exit_2_naming_file_and_line(string json, string line, string what)
    {
        var path = CliRunner.TempFile(json, ".json");
        var r = CliRunner.Run("grid", "--config", path, "--out", CliRunner.TempPath(""));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(path + line, r.Stderr);
        Assert.Contains(what, r.Stderr);
        Assert.DoesNotContain("System.", r.Stderr);
        Assert.Single(r.Stderr.Trim().Split('\n'));
    }

    [Fact]
    public void A_sweep_expands_into_one_arm_per_value_and_the_frozen_config_loads_to_the_same_arms()
    {
        var path = CliRunner.TempFile("{\"name\": \"x\", \"arms\": [{\"name\": \"none\"}], \"tasks\": [\"world-cqa\"], " +
            "\"sweeps\": [{\"policy\": \"rand:unit=word\", \"knob\": \"mlm_probability\", \"values\": [0.5, 0.15]}, {\"policy\": \"t5\", \"knob\": \"mean_noise_span_length\", \"values\": [1, 8], \"name\": \"span\"}]}", ".json");
        var config = GridConfig.Load(path);
        Assert.Empty(config.Sweeps);
        Assert.Equal(["none", "rand-p0.5", "rand-p0.15", "span-mean_noise_span_length1", "span-mean_noise_span_length8"], config.Arms.Select(a => a.Name));
        Assert.Equal(["rand:unit=word,p=0.5", "rand:unit=word,p=0.15", "t5:mean_noise_span_length=1", "t5:mean_noise_span_length=8"], config.Arms.Skip(1).Select(a => a.Policy));
        Assert.Equal(new ArmSweep("rand", "p", 0.15), config.Arms[2].Sweep);
        Assert.Null(config.Arms[0].Sweep);
        // grid.json holds the expanded arms and no sweeps: every cell that loads it again sees the same arms.
        var frozen = CliRunner.TempFile(config.ToJson(), ".json");
        Assert.Equal(config.Arms, GridConfig.Load(frozen).Arms);
    }

    [Fact]
    public void Unknown_presets_are_named()
    {
        var r = CliRunner.Run("run", "--preset", "huge");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("known: demo, explore, paper, real-smoke, smoke", r.Stderr);
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
        Assert.True(CellRunner.HasTornLastLine(dir));
        // The next append cuts the torn fragment off first: the damage never moves into the middle.
        CellRunner.Append(dir, new CellResult("c3", "a", "t", 1, 1.0, "em", 0.3, []));
        Assert.False(CellRunner.HasTornLastLine(dir));
        Assert.Equal(["c1", "c3"], CellRunner.ReadIndex(dir).Select(r => r.Cell).Order());
        Assert.Equal(3, File.ReadAllLines(CellRunner.IndexFile(dir)).Length);
    }

    [Fact]
    public void A_damaged_line_in_the_middle_of_the_index_is_an_error_naming_its_line()
    {
        var dir = CliRunner.TempPath("");
        Directory.CreateDirectory(dir);
        CellRunner.Append(dir, new CellResult("c1", "a", "t", 1, 1.0, "em", 0.1, []));
        File.AppendAllText(CellRunner.IndexFile(dir), "{\"cell\":\"c2\",\"ar\n");
        CellRunner.Append(dir, new CellResult("c3", "a", "t", 1, 1.0, "em", 0.3, []));
        var e = Assert.Throws<InputError>(() => CellRunner.ReadIndex(dir));
        Assert.StartsWith(CellRunner.IndexFile(dir) + ":2: expected a cell's result as one JSON line", e.Message);
    }

    [Fact]
    public void Zipf_exponent_is_recovered_from_an_exact_power_law()
    {
        var counts = Enumerable.Range(1, 200).Select(r => (int)Math.Round(100000 * Math.Pow(r, -1.2))).ToList();
        Assert.InRange(MaskAnalysis.Zipf(counts), 1.19, 1.21);
        Assert.True(double.IsNaN(MaskAnalysis.Zipf([5, 1])));
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
        foreach (var arm in new[] { "none (no IPT)", "ssm", "oracle", "pmi", "supervised", "meta" }) Assert.Contains($"| {arm} |", report);
        Assert.Contains("\"format\":\"masking-pmi-vocab/1\"", File.ReadAllText(Path.Combine(outDir, "ipt", "pmi", "pmi-vocab.json")));
        Assert.Contains("**it reads the test questions.**", report);
        foreach (var section in new[] { "## Results", "## Differences", "## Gap to the oracle", "## Sweeps", "## Which answers were masked", "## Summary", "## Learning efficiency", "## Transfer of learned policies", "## What the policies mask" })
            Assert.Contains(section, report);
        // world-cqa has two options: chance is 50%, a row of the table; its questions are answered by rank classification.
        Assert.Contains("| chance / majority | 50.0 (chance) |", report);
        Assert.Contains("answered by rank classification", report);
        Assert.Contains("Against `none`:", report);
        Assert.Contains("Against chance (the multiple-choice tasks;", report);
        Assert.DoesNotContain("†", report);
        foreach (var png in new[] { "attribution-world-cqa.png", "sweep-rand-p-world-cqa.png", "curve-steps-world-cqa.png", "curve-fraction-world-cqa.png", "transfer.png", "pos.png", "zipf.png" })
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
        var sweep = json.GetProperty("sweeps").GetProperty("rand");
        Assert.Equal([0.15, 0.5], sweep.GetProperty("values").EnumerateArray().Select(v => v.GetDouble()));
        var point = sweep.GetProperty("tasks").GetProperty("world-cqa")[1];
        Assert.InRange(point.GetProperty("mean").GetDouble(), point.GetProperty("low").GetDouble(), point.GetProperty("high").GetDouble());
        // The replayed masks: the oracle masks only the test subjects' answers, and some of them; no IPT masks nothing.
        var test = Masking.Tasks.Registry.defaultWorld.Value.TestSubjects;
        var oracleCounts = File.ReadAllLines(Path.Combine(outDir, "attribution", "ipt-oracle.jsonl")).Select(l => JsonDocument.Parse(l).RootElement)
            .Select(f => (Subject: f.GetProperty("subject").GetInt32(), Masked: f.GetProperty("object_masked").EnumerateArray().Sum(c => c.GetInt32()))).ToList();
        Assert.All(oracleCounts.Where(f => !test.Contains(f.Subject)), f => Assert.Equal(0, f.Masked));
        Assert.Contains(oracleCounts, f => test.Contains(f.Subject) && f.Masked > 0);
        var none = json.GetProperty("attribution").GetProperty("world-cqa").GetProperty("none").GetProperty("buckets");
        Assert.Equal(0, none[1].GetProperty("count").GetInt32() + none[2].GetProperty("count").GetInt32() + none[3].GetProperty("count").GetInt32());
        // Each arm's gap to the oracle, with its interval.
        var gap = json.GetProperty("oracle_gaps").GetProperty("ssm").GetProperty("world-cqa");
        Assert.InRange(gap.GetProperty("difference").GetDouble(), gap.GetProperty("low").GetDouble(), gap.GetProperty("high").GetDouble());
        Assert.False(json.GetProperty("oracle_gaps").TryGetProperty("oracle", out _));

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
