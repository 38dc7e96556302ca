using System.Text.Json;
using Masking.Experiments.HuggingFace;
using Masking.Model;
using Masking.Tokenizers;
using TorchSharp;
using Xunit;

namespace Masking.Experiments.Tests;

/// <summary>
/// Hugging Face BART directories as the model a stage starts from, and run directories written as Hugging Face
/// keeps a model: <c>hf import</c>, <c>hf export</c> (bit for bit, every file from_pretrained reads), the stages
/// with <c>--from HF_DIR</c>, and Masking's own BPE as vocab.json + merges.txt.
/// </summary>
public class HuggingFaceRunTests
{
    private static (int Code, string Err) Run(params string[] args) => MaskingProcess.Run(args);

    private static Dictionary<string, torch.Tensor> Tensors(string file)
    {
        var loaded = Checkpoint.load(file, torch.CPU);
        Assert.True(loaded.IsOk, loaded.IsError ? loaded.ErrorValue : "");
        return loaded.ResultValue.Item1.ToDictionary(kv => kv.Key, kv => kv.Value);
    }

    private static readonly string[] Texts =
        ["Ada Lovelace was born in London in 1815.", " leading space and  two spaces", "café, naïve and 🙂 don't break", "Numbers 12345 and tabs\tend."];

    [PythonTorchFact]
    public void Import_then_export_gives_the_same_tensors_bit_for_bit_and_every_file_from_pretrained_reads()
    {
        using var scope = torch.NewDisposeScope();
        var source = HuggingFaceTests.Directory_.Value;
        var root = CliRunner.TempPath("");
        var run = Path.Combine(root, "run");
        var (code, err) = Run("hf", "import", source, "--out", run);
        Assert.True(code == 0, err);
        Assert.True(File.Exists(Path.Combine(run, "final.json")));
        Assert.Equal(File.ReadAllText(Path.Combine(source, "config.json")), File.ReadAllText(Path.Combine(run, "config.json")));
        var exported = Path.Combine(root, "exported");
        (code, err) = Run("hf", "export", "--from", run, "--out", exported);
        Assert.True(code == 0, err);

        foreach (var name in new[] { "config.json", "model.safetensors", "generation_config.json", "vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json" })
            Assert.True(File.Exists(Path.Combine(exported, name)), name);
        var original = Tensors(Path.Combine(source, "model.safetensors"));
        var written = Tensors(Path.Combine(exported, "model.safetensors"));
        var meta = Checkpoint.meta(Path.Combine(exported, "model.safetensors")).ResultValue;
        Assert.Equal("pt", meta["format"]);
        // Every tensor of the original, the tied copies as the one embedding they are.
        foreach (var (name, tensor) in original)
        {
            var ours = written.TryGetValue(name, out var t) ? t : written["model.shared.weight"];
            Assert.True(ours.shape.SequenceEqual(tensor.shape) && ours.eq(tensor).all().item<bool>(), name);
        }
        Assert.Empty(written.Keys.Except(original.Keys));

        // The independent reference reads the exported safetensors file and computes what it computes on the original.
        var cases = CliRunner.TempFile(JsonSerializer.Serialize(new
        {
            sources = new[] { new[] { 0, 40, 41, 42, 2 } }, labels = new[] { new[] { 0, 43, 44, 2 } },
            settings = new { max_length = 8, min_length = 0, num_beams = 2, length_penalty = 1.0, early_stopping = true, no_repeat_ngram_size = 0, forced_bos = 0, forced_eos = 2 },
        }), ".json");
        string Reference(string dir)
        {
            var o = CliRunner.TempPath(".json");
            HuggingFaceTests.Python("run", dir, cases, o);
            using var doc = JsonDocument.Parse(File.ReadAllText(o));
            return doc.RootElement.GetProperty("cases").GetRawText() + doc.RootElement.GetProperty("beam").GetRawText();
        }
        Assert.Equal(Reference(source), Reference(exported));
    }

    [PythonTorchFact]
    public void Masking_own_BPE_exports_as_vocab_json_and_merges_txt_that_give_our_ids()
    {
        using var scope = torch.NewDisposeScope();
        var root = CliRunner.TempPath("");
        var pre = Path.Combine(root, "pre");
        var (code, err) = Run("pretrain", "--preset", "micro", "--vocab-size", "900", "--steps", "2", "--batch-size", "4", "--threads", "1", "--out", pre);
        Assert.True(code == 0, err);
        var exported = Path.Combine(root, "exported");
        (code, err) = Run("hf", "export", "--from", pre, "--out", exported);
        Assert.True(code == 0, err);
        var ours = (Masking.ITokenizer)ModelDirectory.LoadTokenizer(pre).Tokenizer;
        var bart = (Masking.ITokenizer)BartTokenizer.FromDirectory(exported).ResultValue;
        var texts = CliRunner.TempFile(JsonSerializer.Serialize(Texts), ".json");
        var python = CliRunner.TempPath(".json");
        HuggingFaceTests.Python("encode", exported, texts, python);
        var theirs = JsonSerializer.Deserialize<int[][]>(File.ReadAllText(python))!;
        for (var i = 0; i < Texts.Length; i++)
        {
            Assert.Equal(ours.Encode(Texts[i]).Ids, bart.Encode(Texts[i]).Ids);
            Assert.Equal(ours.Encode(Texts[i]).Ids, theirs[i]);
        }
        Assert.Equal(ours.Specials.VocabSize, bart.Specials.VocabSize);
        Assert.Equal(new[] { 0, 1, 2, 3, 4 }, new[] { bart.Specials.Bos, bart.Specials.Pad, bart.Specials.Eos, bart.Specials.Unk, bart.Specials.Mask });
        // The model is the run's, bit for bit, and its config makes Hugging Face's generate force nothing.
        var run = Tensors(Path.Combine(pre, "model.safetensors"));
        foreach (var (name, tensor) in Tensors(Path.Combine(exported, "model.safetensors")))
            Assert.True(run[name].eq(tensor).all().item<bool>(), name);
        var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(exported, "config.json"))).RootElement;
        Assert.Equal(JsonValueKind.Null, config.GetProperty("forced_eos_token_id").ValueKind);
        Assert.Equal("BartTokenizer", JsonDocument.Parse(File.ReadAllText(Path.Combine(exported, "tokenizer_config.json"))).RootElement.GetProperty("tokenizer_class").GetString());
    }

    [PythonTorchFact]
    public void Stages_start_from_a_Hugging_Face_directory_with_its_tokenizer_and_labels()
    {
        var source = HuggingFaceTests.Directory_.Value;
        var root = CliRunner.TempPath("");
        var ipt = Path.Combine(root, "ipt");
        // The generated model has 64 positions: longer limits are refused before anything trains.
        var (code, err) = Run("finetune", "--from", source, "--task", "world-cbqa", "--steps", "2", "--out", Path.Combine(root, "long"));
        Assert.Equal(2, code);
        Assert.Contains("--max-source-length: 128 is more than the model's 64 positions", err);

        (code, err) = Run("intermediate", "--from", source, "--policy", "rand", "--steps", "3", "--batch-size", "4", "--max-source-length", "64",
            "--max-target-length", "64", "--threads", "1", "--out", ipt);
        Assert.True(code == 0, err);
        // The run keeps the model's own config.json and tokenizer files.
        Assert.Equal(File.ReadAllText(Path.Combine(source, "config.json")), File.ReadAllText(Path.Combine(ipt, "config.json")));
        Assert.Equal(File.ReadAllText(Path.Combine(source, "vocab.json")), File.ReadAllText(Path.Combine(ipt, "vocab.json")));
        Assert.False(File.Exists(Path.Combine(ipt, ModelDirectory.ByteBpeFile)));

        foreach (var (name, from) in new[] { ("ft-hf", source), ("ft-ipt", ipt) })
        {
            (code, err) = Run("finetune", "--from", from, "--task", "world-cbqa", "--steps", "4", "--batch-size", "4", "--eval-every", "2",
                "--max-dev-examples", "6", "--max-source-length", "64", "--max-target-length", "16", "--threads", "1", "--out", Path.Combine(root, name));
            Assert.True(code == 0, err);
            Assert.True(File.Exists(Path.Combine(root, name, "model.safetensors")));
        }
        (code, err) = Run("evaluate", "--from", Path.Combine(root, "ft-hf"), "--split", "dev", "--beam", "1", "--max-examples", "5");
        Assert.True(code == 0, err);
        // A Hugging Face directory evaluates too, given the task.
        (code, err) = Run("evaluate", "--from", source, "--split", "dev", "--max-examples", "3", "--max-source-length", "64",
            "--max-target-length", "8", "--out", Path.Combine(root, "eval-hf"));
        Assert.Equal(2, code);
        Assert.Contains("expected --task TASK", err);
        (code, err) = Run("evaluate", "--from", source, "--task", "world-cbqa", "--split", "dev", "--max-examples", "3", "--max-source-length", "64",
            "--max-target-length", "8", "--out", Path.Combine(root, "eval-hf"));
        Assert.True(code == 0, err);
        Assert.Equal(3, JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "eval-hf", "metrics.json"))).RootElement.GetProperty("count").GetInt32());

        // Labels are Hugging Face's: <s> … </s>, so the loss of the fine-tuned run's model is computed as for the original.
        var pairs = CliRunner.TempFile(JsonSerializer.Serialize(new { source = "Who?", target = "Ada" }) + "\n", ".jsonl");
        var loss = CliRunner.Run("loss", "--from", Path.Combine(root, "ft-hf"), "--input", pairs);
        Assert.True(loss.ExitCode == 0, loss.Stderr);

        // learn-policy takes the Hugging Face model as its language model.
        (code, err) = Run("learn-policy", "--kind", "supervised", "--task", "world-cbqa", "--from", source, "--steps", "2", "--eval-every", "2",
            "--threads", "1", "--out", Path.Combine(root, "policy"));
        Assert.True(code == 0, err);
    }

    [Fact]
    public void A_stage_refuses_a_run_that_has_not_finished_and_a_directory_without_a_model()
    {
        var root = CliRunner.TempPath("");
        var empty = Path.Combine(root, "empty");
        Directory.CreateDirectory(empty);
        var (code, err) = Run("finetune", "--from", empty, "--task", "world-cbqa", "--out", Path.Combine(root, "ft"));
        Assert.Equal(2, code);
        Assert.Contains("model.safetensors:0: expected a model here", err);
        var (c2, e2) = Run("hf", "export", "--from", empty, "--out", Path.Combine(root, "x"));
        Assert.Equal(2, c2);
        Assert.Single(e2.Trim().Split('\n'));
    }
}
