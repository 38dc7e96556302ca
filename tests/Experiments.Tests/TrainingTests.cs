using System.Diagnostics;
using System.Text.Json;
using Masking.Experiments.Training;
using Masking.Model;
using Masking.Tasks;
using Microsoft.FSharp.Core;
using TorchSharp;
using Xunit;

namespace Masking.Experiments.Tests;

/// <summary>The model against an independent PyTorch implementation (Debian's python3-torch).</summary>
public class ParityTests
{
    private static string RepoRoot
    {
        get
        {
            for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
                if (File.Exists(Path.Combine(d.FullName, "Masking.sln"))) return d.FullName;
            throw new InvalidOperationException("Masking.sln not found");
        }
    }

    [PythonTorchTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void Logits_and_loss_match_PyTorch_to_1e_4(bool preNorm)
    {
        using var scope = torch.NewDisposeScope();
        var config = ModelConfigModule.forVocabulary(ModelConfigModule.tiny, 500, 1, 2, 64);
        config = preNorm ? new ModelConfig(config.VocabSize, config.DModel, config.EncoderLayers, config.DecoderLayers, config.Heads,
            config.FfnDim, config.MaxPositions, config.Dropout, config.AttentionDropout, config.ActivationDropout, true,
            config.ScaleEmbedding, config.PadId, config.DecoderStartId, config.EosId) : config;
        var state = ModelState.Fresh(config, 7, torch.CPU);
        var checkpoint = CliRunner.TempPath(".safetensors");
        state.Save(checkpoint, new Dictionary<string, string>(), withOptimizer: false);

        var rng = new Random(3);
        var pairs = Enumerable.Range(0, 4).Select(i => new SequencePair(
            [0, .. Enumerable.Range(0, 5 + 3 * i).Select(_ => rng.Next(3, 500)), 2],
            [.. Enumerable.Range(0, 3 + 2 * i).Select(_ => rng.Next(3, 500)), 2])).ToList();
        using var batch = Batch.Create(pairs, 1, 2, torch.CPU);
        var batchFile = CliRunner.TempFile(JsonSerializer.Serialize(new
        {
            source = Rows(batch.Source),
            decoder_input = Rows(batch.DecoderInput),
            target = Rows(batch.Target),
            label_smoothing = 0.1,
        }), ".json");

        float[] ours;
        double ourLoss;
        using (torch.no_grad())
        {
            var logits = Seq2Seq.forward(config, state.Parameters, Masking.Model.Dropout.Off, batch.Source, batch.DecoderInput);
            ours = logits.data<float>().ToArray();
            ourLoss = Loss.labelSmoothed(0.1, 1, logits, batch.Target, FSharpOption<torch.Tensor>.None).item<float>();
        }

        var output = CliRunner.TempPath(".json");
        var python = Process.Start(new ProcessStartInfo("/usr/bin/python3",
            [Path.Combine(RepoRoot, "tests", "parity", "bart_reference.py"), checkpoint, batchFile, output])
        { RedirectStandardError = true })!;
        var stderr = python.StandardError.ReadToEnd();
        python.WaitForExit();
        Assert.True(python.ExitCode == 0, "the PyTorch reference failed (is python3-torch installed? .ci/run installs it): " + stderr);

        using var doc = JsonDocument.Parse(File.ReadAllText(output));
        var theirs = doc.RootElement.GetProperty("logits").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        Assert.Equal(ours.Length, theirs.Length);
        var maxDiff = ours.Zip(theirs, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(maxDiff < 1e-4, $"max |logit difference| = {maxDiff}");
        Assert.Equal(doc.RootElement.GetProperty("loss").GetDouble(), ourLoss, 4);
    }

    private static long[][] Rows(torch.Tensor t)
    {
        var data = t.data<long>().ToArray();
        var cols = (int)t.shape[1];
        return Enumerable.Range(0, (int)t.shape[0]).Select(r => data.Skip(r * cols).Take(cols).ToArray()).ToArray();
    }
}

/// <summary>The stages end to end on the generated world, and resuming after kill -9.</summary>
public class StageTests
{
    private static readonly string Masking = MaskingProcess.Executable;

    private static (int Code, string Err) Run(params string[] args) => MaskingProcess.Run(args);

    private static string[] Pretrain(string outDir, int steps, int checkpointEvery = 5, int logEvery = 5) =>
        ["pretrain", "--preset", "micro", "--vocab-size", "600", "--lr", "0.003", "--steps", steps.ToString(), "--batch-size", "8",
         "--checkpoint-every", checkpointEvery.ToString(), "--log-every", logEvery.ToString(), "--threads", "1", "--seed", "3", "--out", outDir];

    /// <summary>The environment that makes a run kill itself after the checkpoint of <paramref name="step"/>.</summary>
    internal static Dictionary<string, string> KillAt(int step) => new() { [FaultInjection.StepVariable] = step.ToString() };

    private static double[] Losses(string dir) =>
        File.ReadAllLines(Path.Combine(dir, "metrics.jsonl"))
            .Select(l => JsonDocument.Parse(l).RootElement)
            .Where(e => e.TryGetProperty("loss", out _))
            .Select(e => e.GetProperty("loss").GetDouble()).ToArray();

    [Fact]
    public void Pretrain_intermediate_finetune_evaluate_run_end_to_end_and_the_loss_falls()
    {
        var root = CliRunner.TempPath("");
        var (code, err) = Run(Pretrain(Path.Combine(root, "pre"), 60));
        Assert.True(code == 0, err);
        var losses = Losses(Path.Combine(root, "pre"));
        Assert.True(losses[^1] < losses[0] - 0.5, $"pre-training loss {losses[0]} → {losses[^1]}");

        (code, err) = Run("intermediate", "--from", Path.Combine(root, "pre"), "--policy", "rand", "--steps", "20", "--batch-size", "8",
            "--threads", "1", "--out", Path.Combine(root, "ipt"));
        Assert.True(code == 0, err);
        (code, err) = Run("finetune", "--from", Path.Combine(root, "ipt"), "--task", "world-cbqa", "--steps", "30", "--batch-size", "8",
            "--eval-every", "10", "--max-target-length", "16", "--threads", "1", "--out", Path.Combine(root, "ft"));
        Assert.True(code == 0, err);
        // The fine-tuned model (its best dev checkpoint) as Hugging Face keeps one: BartConfig config.json and
        // model.safetensors beside the run's own run.json.
        Assert.True(File.Exists(Path.Combine(root, "ft", "model.safetensors")));
        Assert.Contains("\"model_type\": \"bart\"", File.ReadAllText(Path.Combine(root, "ft", "config.json")));
        Assert.Contains("\"task\": \"world-cbqa\"", File.ReadAllText(Path.Combine(root, "ft", "run.json")));
        var devCount = Registry.find("world-cbqa").ResultValue.Load.Invoke("").Invoke(Split.Dev).ResultValue.Length;
        Assert.Equal(devCount, File.ReadAllLines(Path.Combine(root, "ft", "predictions.jsonl")).Length); // dev predictions of the best checkpoint
        Assert.Equal(3, File.ReadAllLines(Path.Combine(root, "ft", "metrics.jsonl")).Count(l => l.Contains("dev_em")));
        (code, err) = Run("evaluate", "--from", Path.Combine(root, "ft"), "--split", "dev", "--beam", "2");
        Assert.True(code == 0, err);
        var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "ft", "eval-dev", "metrics.json"))).RootElement;
        Assert.Equal(devCount, metrics.GetProperty("count").GetInt32());
        Assert.Equal(devCount, File.ReadAllLines(Path.Combine(root, "ft", "eval-dev", "predictions.jsonl")).Length);
    }

    // Killed mid-run; between two log lines (checkpoints every 7 steps, log lines every 5); right after the last
    // step's checkpoint, before final.json (the resumed run takes no step and must still report the final loss).
    [Theory]
    [InlineData(20, 5, 5)]
    [InlineData(21, 7, 5)]
    [InlineData(60, 5, 5)]
    public void A_run_killed_with_SIGKILL_resumes_and_ends_exactly_like_an_uninterrupted_run(int killAt, int checkpointEvery, int logEvery)
    {
        var root = CliRunner.TempPath("");
        const int steps = 60;
        string[] Args(string dir) => Pretrain(dir, steps, checkpointEvery, logEvery);
        var whole = Path.Combine(root, "whole");
        var (code, err) = Run(Args(whole));
        Assert.True(code == 0, err);

        // The run kills itself (SIGKILL) right after the checkpoint of step killAt: the same point on any machine.
        var killed = Path.Combine(root, "killed");
        var metrics = Path.Combine(killed, "metrics.jsonl");
        (code, _) = MaskingProcess.RunWith(KillAt(killAt), Args(killed));
        Assert.Equal(137, code);
        Assert.False(File.Exists(Path.Combine(killed, "final.json")));
        Assert.True(File.Exists(Path.Combine(killed, "checkpoints", "last.safetensors")));

        (code, err) = Run(Args(killed));
        Assert.True(code == 0, err);
        Assert.Contains("resuming", err);
        Assert.Equal(File.ReadAllText(Path.Combine(whole, "final.json")), File.ReadAllText(Path.Combine(killed, "final.json")));
        Assert.Equal(File.ReadAllText(Path.Combine(whole, "metrics.jsonl")).Split('\n').Select(StripRate), File.ReadAllText(metrics).Split('\n').Select(StripRate));
        Assert.Equal(File.ReadAllBytes(Path.Combine(whole, "checkpoints", "last.safetensors")), File.ReadAllBytes(Path.Combine(killed, "checkpoints", "last.safetensors")));
        // TensorBoard shows each step once: one event file with as many records as the uninterrupted run's.
        Assert.Single(Directory.GetFiles(Path.Combine(killed, "tensorboard")));
        Assert.Equal(EventRecords(whole), EventRecords(killed));
    }

    [Fact]
    public void A_long_source_keeps_a_window_around_its_focus_marker_and_a_short_one_is_whole()
    {
        var vocab = (global::Masking.ITokenizer)global::Masking.Tokenizers.Gpt2Tokenizer.Embedded();
        var text = string.Concat(Enumerable.Repeat("A long report about cricket and the weather . ", 60)) + "[START_ENT] Leicestershire [END_ENT] won .";
        var body = Prediction.SourceBody(vocab, text, "[START_ENT]", 64);
        Assert.Equal(62, body.Length);
        Assert.Contains("[START_ENT] Leicestershire [END_ENT] won", vocab.Decode(body));
        // Without a focus: the first tokens.
        Assert.Equal(vocab.Encode(text).Ids[..62], Prediction.Wrap(-1, Prediction.SourceBody(vocab, text, null, 64), 2, 63)[..62]);
        Assert.Equal(vocab.Encode("short [START_ENT] x").Ids, Prediction.SourceBody(vocab, "short [START_ENT] x", "[START_ENT]", 64));
    }

    /// <summary>The number of TFRecord entries (events) in a run's TensorBoard files.</summary>
    private static int EventRecords(string run)
    {
        var count = 0;
        foreach (var file in Directory.GetFiles(Path.Combine(run, "tensorboard")))
        {
            var bytes = File.ReadAllBytes(file);
            // Each record: 8-byte length, 4-byte length CRC, the data, 4-byte data CRC.
            for (long at = 0; at < bytes.Length; count++) at += 8 + 4 + BitConverter.ToInt64(bytes, (int)at) + 4;
        }
        return count;
    }

    /// <summary>
    /// The grid's rare segmentation fault (exit 139, twice in five demo runs), made likely: TorchSharp hands
    /// libtorch only the raw handle of a tensor or scalar, and frees the native object in the wrapper's
    /// finalizer, so a temporary that nothing references any more (the Scalar 1 of every <c>a + b</c>, the links
    /// of <c>t.detach().cpu().contiguous()</c> outside a dispose scope) could be freed during the call that reads
    /// it. With a thread collecting garbage without pause, training died every time before the fix (8 of 8 runs
    /// of this pre-training: SIGSEGV in THSTensor_to_type from Checkpoint.save, THSTensor_zeros_out from
    /// Parameters.init, or "Expected false to be true" from c10::Scalar::toFloat in THSTensor_add).
    /// </summary>
    [Fact]
    public void Training_survives_a_garbage_collection_during_every_native_call_and_gives_the_same_bytes()
    {
        var root = CliRunner.TempPath("");
        var stress = new Dictionary<string, string> { [FaultInjection.GcStressVariable] = "1" };
        string[] Pre(string dir) =>
            ["pretrain", "--preset", "micro", "--vocab-size", "600", "--steps", "60", "--batch-size", "8", "--checkpoint-every", "1",
             "--log-every", "5", "--threads", "1", "--seed", "5", "--out", dir];
        var (code, err) = MaskingProcess.RunWith(stress, Pre(Path.Combine(root, "stressed")));
        Assert.True(code == 0, $"pre-training under GC stress exited {code} (139: segmentation fault): {Tail(err)}");
        (code, err) = Run(Pre(Path.Combine(root, "calm")));
        Assert.True(code == 0, err);
        Assert.Equal(File.ReadAllBytes(Path.Combine(root, "calm", "checkpoints", "last.safetensors")),
            File.ReadAllBytes(Path.Combine(root, "stressed", "checkpoints", "last.safetensors")));

        // Fine-tuning with dev decoding and a checkpoint every few steps, then beam-search evaluation.
        var ft = Path.Combine(root, "ft");
        (code, err) = MaskingProcess.RunWith(stress, "finetune", "--from", Path.Combine(root, "stressed"), "--task", "world-cqa", "--steps", "20",
            "--batch-size", "8", "--eval-every", "5", "--checkpoint-every", "2", "--max-target-length", "12", "--threads", "1", "--out", ft);
        Assert.True(code == 0, $"fine-tuning under GC stress exited {code}: {Tail(err)}");
        (code, err) = MaskingProcess.RunWith(stress, "evaluate", "--from", ft, "--split", "dev", "--beam", "2", "--max-examples", "20");
        Assert.True(code == 0, $"evaluation under GC stress exited {code}: {Tail(err)}");
    }

    private static string Tail(string text) => string.Join("\n", text.Split('\n').TakeLast(15));

    // Throughput differs between runs; everything else must not.
    private static string StripRate(string line) => System.Text.RegularExpressions.Regex.Replace(line, ",\"tokens_per_second\":\\d+", "");

    [Fact]
    public void A_run_directory_refuses_another_configuration()
    {
        var dir = CliRunner.TempPath("");
        Assert.Equal(0, Run(Pretrain(dir, 5)).Code);
        var (code, err) = Run(Pretrain(dir, 6));
        Assert.Equal(2, code);
        Assert.Contains("expected the configuration of this run to resume it (differs in: Steps)", err);
    }
}

/// <summary>Runs the built `masking` executable as a separate process (for kill -9 and whole-run tests).</summary>
public static class MaskingProcess
{
    public static readonly string Executable = Path.Combine(AppContext.BaseDirectory, "masking");

    public static (int Code, string Err) Run(params string[] args) => RunWith(new Dictionary<string, string>(), args);

    /// <summary>Runs the executable with extra environment variables (the fault-injection hook, for one).</summary>
    public static (int Code, string Err) RunWith(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var info = new ProcessStartInfo(Executable, args) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var (k, v) in environment) info.Environment[k] = v;
        var p = Process.Start(info)!;
        var err = p.StandardError.ReadToEndAsync();
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, err.Result);
    }
}
