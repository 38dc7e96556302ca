using System.Diagnostics;
using System.Text.RegularExpressions;
using Masking.Experiments.Training;
using Xunit;

namespace Masking.Experiments.Tests.Robustness;

/// <summary>Two processes on one run, Ctrl-C, and damaged run files: each ends in a clear line and a run that
/// resumes to the bytes of an uninterrupted one.</summary>
public class RunDirectoryTests
{
    private static string[] Pretrain(string outDir, int steps) =>
        ["pretrain", "--preset", "micro", "--vocab-size", "600", "--lr", "0.003", "--steps", steps.ToString(), "--batch-size", "8",
         "--checkpoint-every", "5", "--log-every", "3", "--threads", "1", "--seed", "3", "--out", outDir];

    private static string StripRate(string text) => Regex.Replace(text, ",\"tokens_per_second\":\\d+", "");

    private static void AssertSameRun(string whole, string other)
    {
        Assert.Equal(File.ReadAllText(Path.Combine(whole, "final.json")), File.ReadAllText(Path.Combine(other, "final.json")));
        Assert.Equal(StripRate(File.ReadAllText(Path.Combine(whole, "metrics.jsonl"))), StripRate(File.ReadAllText(Path.Combine(other, "metrics.jsonl"))));
        Assert.Equal(File.ReadAllBytes(Path.Combine(whole, "model.safetensors")), File.ReadAllBytes(Path.Combine(other, "model.safetensors")));
    }

    private static readonly Lazy<string> Whole = new(() =>
    {
        var dir = CliRunner.TempPath("");
        var (code, err) = MaskingProcess.Run(Pretrain(dir, 20));
        Assert.True(code == 0, err);
        return dir;
    });

    [Fact]
    public void Ctrl_C_stops_at_the_next_step_with_a_checkpoint_and_the_same_command_resumes_to_the_same_bytes()
    {
        var dir = CliRunner.TempPath("");
        // The run sends itself SIGINT when step 7 is done (between two checkpoints and two log lines).
        var (code, err) = MaskingProcess.RunWith(new Dictionary<string, string> { [FaultInjection.InterruptVariable] = "7" }, Pretrain(dir, 20));
        Assert.Equal(130, code);
        Assert.Contains("masking: interrupted at step 7: run the same command to resume", err);
        Assert.DoesNotContain("   at ", err);
        Assert.False(File.Exists(Path.Combine(dir, "final.json")));

        (code, err) = MaskingProcess.Run(Pretrain(dir, 20));
        Assert.True(code == 0, err);
        Assert.Contains("resuming", err);
        AssertSameRun(Whole.Value, dir);
    }

    [Fact]
    public void A_second_process_on_a_running_run_is_refused_with_the_holder_named()
    {
        var dir = CliRunner.TempPath("");
        var info = new ProcessStartInfo(MaskingProcess.Executable, Pretrain(dir, 100_000)) { RedirectStandardError = true, RedirectStandardOutput = true };
        using var first = Process.Start(info)!;
        try
        {
            // The first holds the lock from before it writes run.json.
            var owner = Path.Combine(dir, "run.owner");
            for (var waited = Stopwatch.StartNew(); !File.Exists(Path.Combine(dir, "run.json")); Thread.Sleep(20))
                Assert.True(waited.Elapsed.TotalSeconds < 120 && !first.HasExited, "the first run did not start");
            var (code, err) = MaskingProcess.Run(Pretrain(dir, 100_000));
            Assert.Equal(2, code);
            Assert.Contains($"{Path.Combine(dir, "run.lock")}:0: expected no other process on this run directory, but process {first.Id} holds it", err);
            Assert.Single(err.Trim().Split('\n'));
            Assert.True(File.Exists(owner));
        }
        finally
        {
            first.Kill();
            first.WaitForExit();
        }
    }

    [Fact]
    public void A_second_evaluation_into_the_same_directory_is_refused()
    {
        var outDir = CliRunner.TempPath("");
        Directory.CreateDirectory(outDir);
        using var holder = new RunDirectory(outDir);
        holder.Lock();
        var r = CliRunner.Run("evaluate", "--from", CliRunner.TempPath(""), "--out", outDir);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains($"{Path.Combine(outDir, "run.lock")}:0: expected no other process on this run directory", r.Stderr);
        Assert.Single(r.Stderr.Trim().Split('\n'));
    }

    [Fact]
    public void A_torn_last_log_line_is_cut_on_resume_and_a_damaged_middle_one_is_named()
    {
        var dir = CliRunner.TempPath("");
        var (code, _) = MaskingProcess.RunWith(new Dictionary<string, string> { [FaultInjection.StepVariable] = "10" }, Pretrain(dir, 20));
        Assert.Equal(137, code);
        var metrics = Path.Combine(dir, "metrics.jsonl");
        var kept = File.ReadAllText(metrics);

        // A kill while a line was appended.
        File.AppendAllText(metrics, "{\"step\":12,\"lo");
        var (resumed, err) = MaskingProcess.Run(Pretrain(dir, 20));
        Assert.True(resumed == 0, err);
        AssertSameRun(Whole.Value, dir);

        // Damage that no kill makes: refused, naming the line.
        var damaged = CliRunner.TempPath("");
        (code, _) = MaskingProcess.RunWith(new Dictionary<string, string> { [FaultInjection.StepVariable] = "10" }, Pretrain(damaged, 20));
        Assert.Equal(137, code);
        var lines = File.ReadAllLines(Path.Combine(damaged, "metrics.jsonl"));
        lines[0] = "{\"step\": oops";
        File.WriteAllLines(Path.Combine(damaged, "metrics.jsonl"), lines);
        (code, err) = MaskingProcess.Run(Pretrain(damaged, 20));
        Assert.Equal(2, code);
        Assert.Contains($"{Path.Combine(damaged, "metrics.jsonl")}:1: expected a JSON object with a \"step\"", err);
        Assert.NotEqual("", kept);
    }

    [Fact]
    public void A_truncated_run_json_is_named_not_a_crash()
    {
        var dir = CliRunner.TempPath("");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "run.json"), "{\"stage\": \"finetune\", \"ta");
        var r = CliRunner.Run("evaluate", "--from", dir);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains($"{Path.Combine(dir, "run.json")}:1: expected a run configuration", r.Stderr);
        r = CliRunner.Run(Pretrain(dir, 20));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains($"{Path.Combine(dir, "run.json")}:1: expected the configuration of this run", r.Stderr);
    }

    private static string CopyOf(string dir)
    {
        var copy = CliRunner.TempPath("");
        foreach (var file in Directory.GetFiles(dir, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(copy, Path.GetRelativePath(dir, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        return copy;
    }

    private static string[] Intermediate(string from, string outDir) =>
        ["intermediate", "--from", from, "--policy", "rand", "--steps", "2", "--batch-size", "4", "--threads", "1", "--out", outDir];

    private static string[] LossGuided(string from, string outDir) =>
        ["intermediate", "--from", from, "--policy", "loss-guided:every=2", "--steps", "6", "--batch-size", "4", "--checkpoint-every", "3",
         "--log-every", "1", "--threads", "1", "--out", outDir];

    [Fact]
    public void Loss_guided_rescores_every_N_steps_and_a_run_stopped_between_two_scorings_resumes_to_the_same_bytes()
    {
        var whole = CliRunner.TempPath("");
        var (code, err) = MaskingProcess.Run(LossGuided(Whole.Value, whole));
        Assert.True(code == 0, err);
        // One scoring per window of 2 steps, each a line of word losses per passage.
        Assert.Equal(["0.txt", "2.txt", "4.txt"], Directory.GetFiles(Path.Combine(whole, "loss-scores")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        var first = File.ReadAllLines(Path.Combine(whole, "loss-scores", "0.txt"));
        Assert.NotEqual(first, File.ReadAllLines(Path.Combine(whole, "loss-scores", "4.txt")));
        var losses = first[0].Split(' ').Select(s => double.Parse(s, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Contains(losses, v => v > 0);
        Assert.All(losses.Where(double.IsFinite), v => Assert.True(v >= 0));

        // Stopped after step 3 (checkpoint at 3, inside the window of step 2): the resume reads that window's scores.
        var dir = CliRunner.TempPath("");
        (code, err) = MaskingProcess.RunWith(new Dictionary<string, string> { [FaultInjection.InterruptVariable] = "3" }, LossGuided(Whole.Value, dir));
        Assert.Equal(130, code);
        (code, err) = MaskingProcess.Run(LossGuided(Whole.Value, dir));
        Assert.True(code == 0, err);
        AssertSameRun(whole, dir);
        Assert.Equal(File.ReadAllBytes(Path.Combine(whole, "loss-scores", "4.txt")), File.ReadAllBytes(Path.Combine(dir, "loss-scores", "4.txt")));
    }

    [Fact]
    public void Loss_guided_with_a_reference_scores_the_excess_loss_which_is_nil_while_the_model_is_the_reference()
    {
        // The stage starts from the very model it is compared with, so the first scoring's excess is 0 for every
        // word; the next scoring, after two steps of training, is not.
        var dir = CliRunner.TempPath("");
        string[] args = ["intermediate", "--from", Whole.Value, "--policy", $"loss-guided:every=2,reference={Whole.Value}", "--steps", "3",
            "--batch-size", "4", "--threads", "1", "--out", dir];
        var (code, err) = MaskingProcess.Run(args);
        Assert.True(code == 0, err);
        double[] Scores(string file) => File.ReadAllLines(Path.Combine(dir, "loss-scores", file)).SelectMany(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(x => double.Parse(x, System.Globalization.CultureInfo.InvariantCulture)).Where(double.IsFinite).ToArray();
        var first = Scores("0.txt");
        Assert.NotEmpty(first);
        Assert.All(first, v => Assert.Equal(0.0, v));
        Assert.Contains(Scores("2.txt"), v => v != 0.0);
    }

    [Fact]
    public void A_loss_guided_reference_that_is_not_a_model_is_named_before_training()
    {
        var dir = CliRunner.TempPath("");
        var notModel = CliRunner.TempPath("");
        Directory.CreateDirectory(notModel);
        string[] args = ["intermediate", "--from", Whole.Value, "--policy", $"loss-guided:reference={notModel}", "--steps", "2", "--batch-size", "4",
            "--threads", "1", "--out", dir];
        var (code, err) = MaskingProcess.Run(args);
        Assert.Equal(2, code);
        Assert.Equal($"masking: {notModel}:0: loss-guided reference: expected a model directory (config.json and model.safetensors)", err.Trim());
    }

    [Fact]
    public void A_checkpoint_without_its_metadata_is_named_not_a_crash()
    {
        var dir = CliRunner.TempPath("");
        var (code, _) = MaskingProcess.RunWith(new Dictionary<string, string> { [FaultInjection.StepVariable] = "10" }, Pretrain(dir, 20));
        Assert.Equal(137, code);
        var checkpoint = Path.Combine(dir, "checkpoints", "last.safetensors");
        var loaded = Masking.Model.Checkpoint.load(checkpoint, TorchSharp.torch.CPU).ResultValue;
        Masking.Model.Checkpoint.save(checkpoint, Microsoft.FSharp.Collections.ListModule.OfSeq(loaded.Item1.Select(kv => Tuple.Create(kv.Key, kv.Value))),
            Microsoft.FSharp.Collections.MapModule.OfSeq(new[] { Tuple.Create("step", "10") }));
        var (resumed, err) = MaskingProcess.Run(Pretrain(dir, 20));
        Assert.Equal(2, resumed);
        Assert.Contains($"{checkpoint}:0: expected \"model_config\" in the checkpoint's metadata", err);
        Assert.Single(err.Trim().Split('\n'), l => l.StartsWith("masking:", StringComparison.Ordinal));
        Assert.DoesNotContain("   at ", err);
    }

    [Fact]
    public void NaN_weights_in_the_model_a_stage_starts_from_are_named_at_load()
    {
        var from = CopyOf(Whole.Value);
        var model = Path.Combine(from, "model.safetensors");
        var loaded = Masking.Model.Checkpoint.load(model, TorchSharp.torch.CPU).ResultValue;
        var tensors = loaded.Item1.Select(kv => Tuple.Create(kv.Key, kv.Value)).ToList();
        var (name, first) = (tensors[0].Item1, tensors[0].Item2);
        first.view(-1)[0] = TorchSharp.torch.tensor(float.NaN);
        Masking.Model.Checkpoint.save(model, Microsoft.FSharp.Collections.ListModule.OfSeq(tensors), loaded.Item2);
        var (code, err) = MaskingProcess.Run(Intermediate(from, CliRunner.TempPath("")));
        Assert.Equal(2, code);
        Assert.Contains($"{model}:0: parameter {name} holds NaN or infinite values", err);
    }

    [Fact]
    public void A_damaged_vocabulary_in_from_is_named_where_it_is_and_not_copied()
    {
        var from = CopyOf(Whole.Value);
        var vocab = Path.Combine(from, "byte-bpe.json");
        var good = File.ReadAllText(vocab);
        File.WriteAllText(vocab, good[..(good.Length / 2)]);
        var outDir = CliRunner.TempPath("");
        var (code, err) = MaskingProcess.Run(Intermediate(from, outDir));
        Assert.Equal(2, code);
        Assert.Contains(vocab + ":", err);
        Assert.False(File.Exists(Path.Combine(outDir, "byte-bpe.json")));
        // Fixed at its source, the same command runs.
        File.WriteAllText(vocab, good);
        (code, err) = MaskingProcess.Run(Intermediate(from, outDir));
        Assert.True(code == 0, err);
    }

    [Theory]
    [InlineData("supervised")]
    [InlineData("meta")]
    public void Ctrl_C_in_learn_policy_stops_with_a_checkpoint_and_resumes_to_the_same_bytes(string kind)
    {
        var root = CliRunner.TempPath("");
        var pre = Path.Combine(root, "pre");
        Assert.Equal(0, MaskingProcess.Run("pretrain", "--preset", "micro", "--vocab-size", "600", "--steps", "5", "--batch-size", "8", "--threads", "1", "--out", pre).Code);
        string[] Args(string name) => kind == "supervised"
            ? ["learn-policy", "--kind", "supervised", "--task", "world-cqa", "--from", pre, "--steps", "60", "--eval-every", "25", "--patience", "100",
               "--threads", "1", "--out", Path.Combine(root, name)]
            : ["learn-policy", "--kind", "meta", "--task", "world-cqa", "--from", pre, "--steps", "20", "--meta-gradient", "first-order",
               "--threads", "1", "--out", Path.Combine(root, name)];
        var (code, err) = MaskingProcess.Run(Args("whole"));
        Assert.True(code == 0, err);
        (code, err) = MaskingProcess.RunWith(new Dictionary<string, string> { [FaultInjection.InterruptVariable] = "13" }, Args("stopped"));
        Assert.Equal(130, code);
        Assert.Contains("masking: interrupted at step 13: run the same command to resume", err);
        (code, err) = MaskingProcess.Run(Args("stopped"));
        Assert.True(code == 0, err);
        Assert.Contains("resuming from step 13", err);
        foreach (var file in new[] { "final.json", "metrics.jsonl" })
            Assert.Equal(File.ReadAllText(Path.Combine(root, "whole", file)), File.ReadAllText(Path.Combine(root, "stopped", file)));
        Assert.Equal(File.ReadAllBytes(Path.Combine(root, "whole", "scorer.safetensors")), File.ReadAllBytes(Path.Combine(root, "stopped", "scorer.safetensors")));
    }

    [Fact]
    public async Task Ctrl_C_on_a_grid_stops_its_cells_at_checkpoints_and_the_same_command_finishes_it()
    {
        var outDir = CliRunner.TempPath("");
        // A session of its own, so that the signal can go to the grid and its cells as a terminal's Ctrl-C does.
        var info = new ProcessStartInfo("setsid", [MaskingProcess.Executable, "run", "--preset", "smoke", "--out", outDir])
        {
            RedirectStandardError = true, RedirectStandardOutput = true,
        };
        using var grid = Process.Start(info)!;
        var err = grid.StandardError.ReadToEndAsync();
        var stdout = grid.StandardOutput.ReadToEndAsync();
        for (var waited = Stopwatch.StartNew();
             !Directory.Exists(outDir) || Directory.GetFiles(outDir, "last.safetensors", SearchOption.AllDirectories).Length == 0;
             Thread.Sleep(50))
            Assert.True(waited.Elapsed.TotalSeconds < 300 && !grid.HasExited, "no cell wrote a checkpoint");
        using (var kill = Process.Start("kill", ["-INT", "--", "-" + grid.Id])!) kill.WaitForExit();
        await grid.WaitForExitAsync();
        var stderr = await err;
        await stdout;
        Assert.Equal(130, grid.ExitCode);
        Assert.Contains("grid interrupted: finished cells are kept and stopped ones resume from their checkpoints", stderr);
        Assert.DoesNotContain("   at ", stderr);

        var (code, again) = MaskingProcess.Run("run", "--preset", "smoke", "--out", outDir);
        Assert.True(code == 0, again);
        Assert.True(File.Exists(Path.Combine(outDir, "results.json")));
    }

    [Fact]
    public void A_run_killed_before_its_first_checkpoint_logs_each_step_once_when_run_again()
    {
        // What such a run leaves: its run.json and the lines it logged, no checkpoint.
        var dir = CliRunner.TempPath("");
        Directory.CreateDirectory(dir);
        File.Copy(Path.Combine(Whole.Value, "run.json"), Path.Combine(dir, "run.json"));
        File.WriteAllLines(Path.Combine(dir, "metrics.jsonl"), File.ReadAllLines(Path.Combine(Whole.Value, "metrics.jsonl")).Take(1));
        var (code, err) = MaskingProcess.Run(Pretrain(dir, 20));
        Assert.True(code == 0, err);
        AssertSameRun(Whole.Value, dir);
    }
}
