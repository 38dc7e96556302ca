using System.Diagnostics;
using System.Text.Json;
using Masking.Experiments.HuggingFace;
using Masking.Model;
using Masking.Tokenizers;
using Microsoft.FSharp.Core;
using TorchSharp;
using Xunit;

namespace Masking.Experiments.Tests;

/// <summary>
/// Hugging Face BART directories in: a directory that tests/parity/hf_bart.py writes (random weights, every
/// norm and bias perturbed, both weight files, a small byte-level BPE) is read by Masking and by that script's
/// independent PyTorch model, which must agree on logits, loss, greedy and beam-search ids.
/// </summary>
public class HuggingFaceTests
{
    private static string Script => Path.Combine(CliRunner.RepoRoot, "tests", "parity", "hf_bart.py");

    internal static void Python(params string[] args)
    {
        var p = Process.Start(new ProcessStartInfo("/usr/bin/python3", [Script, .. args]) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        var err = p.StandardError.ReadToEndAsync();
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, "hf_bart.py failed: " + err.Result);
    }

    internal static readonly Lazy<string> Directory_ = new(() =>
    {
        var dir = CliRunner.TempPath("");
        Python("make", dir, "11");
        return dir;
    });

    private static readonly string[] Sources =
        ["Hello world, the cat sat on the mat.", "A second and much longer input about the weather in London and Paris on Sunday.",
         "unicode: café 🙂 and a <mask> here"];
    private static readonly string[] Targets = ["the answer", "another, longer target sentence", "x"];

    [PythonTorchFact]
    public void A_generated_BART_directory_agrees_with_the_PyTorch_reference_on_logits_loss_greedy_and_beam_ids()
    {
        using var scope = torch.NewDisposeScope();
        var dir = Directory_.Value;
        var model = ModelSource.Open(dir, torch.CPU);
        var sources = Sources.Select(model.Source).ToArray();
        var labels = Targets.Select(model.Labels).ToArray();
        Assert.All(labels, l => Assert.Equal(0, l[0])); // labels are <s> … </s>
        var cases = CliRunner.TempFile(JsonSerializer.Serialize(new
        {
            sources, labels,
            settings = new { max_length = 20, min_length = 0, num_beams = 4, length_penalty = 1.0, early_stopping = true, no_repeat_ngram_size = 3, forced_bos = 0, forced_eos = 2 },
        }), ".json");
        var outPath = CliRunner.TempPath(".json");
        Python("run", dir, cases, outPath);
        var reference = JsonDocument.Parse(File.ReadAllText(outPath)).RootElement;

        // Logits of the labels shifted right after decoder_start_token_id, to 1e-4.
        using (torch.no_grad())
            for (var i = 0; i < Sources.Length; i++)
            {
                using var batch = Training.Batch.Create([new Training.SequencePair(sources[i], labels[i])], 1, 2, torch.CPU);
                var ours = Seq2Seq.forward(model.Config, model.Parameters, Masking.Model.Dropout.Off, batch.Source, batch.DecoderInput).data<float>().ToArray();
                var theirs = reference.GetProperty("cases")[i].GetProperty("logits").EnumerateArray().Select(e => e.GetSingle()).ToArray();
                Assert.Equal(theirs.Length, ours.Length);
                var worst = ours.Zip(theirs, (a, b) => Math.Abs(a - b)).Max();
                Assert.True(worst < 1e-4, $"case {i}: logits differ by {worst}");
            }

        // masking loss: the mean cross-entropy over the label tokens.
        var pairs = CliRunner.TempFile(string.Concat(Sources.Zip(Targets, (s, t) => JsonSerializer.Serialize(new { source = s, target = t }) + "\n")), ".jsonl");
        var loss = CliRunner.Run("loss", "--from", dir, "--input", pairs);
        Assert.True(loss.ExitCode == 0, loss.Stderr);
        var losses = loss.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("loss").GetDouble()).ToArray();
        for (var i = 0; i < Sources.Length; i++)
            Assert.InRange(losses[i], reference.GetProperty("cases")[i].GetProperty("loss").GetDouble() - 1e-4, reference.GetProperty("cases")[i].GetProperty("loss").GetDouble() + 1e-4);

        // masking generate, greedy and with the directory's own settings (generation_config.json: beam 4,
        // no_repeat_ngram_size 3, forced BOS and EOS, max_length 20): the same ids, token for token.
        var texts = CliRunner.TempFile(string.Join('\n', Sources) + "\n");
        // The reference's own cached search (bench/generate_torch.py times it) agrees with its uncached one.
        foreach (var mode in new[] { "greedy", "beam" })
            Assert.Equal(reference.GetProperty(mode).GetRawText(), reference.GetProperty(mode + "_cached").GetRawText());
        // With the key/value cache and without it (the decoder over the whole prefix): the same ids.
        foreach (var (mode, args) in new[]
                 {
                     ("greedy", new[] { "--beam", "1" }), ("greedy", new[] { "--beam", "1", "--no-cache" }),
                     ("beam", Array.Empty<string>()), ("beam", new[] { "--no-cache" }),
                 })
        {
            var r = CliRunner.Run(["generate", "--from", dir, "--input", texts, .. args]);
            Assert.True(r.ExitCode == 0, r.Stderr);
            var lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
            Assert.Equal(Sources.Length, lines.Length);
            for (var i = 0; i < Sources.Length; i++)
            {
                Assert.Equal(Sources[i], lines[i].GetProperty("source").GetString());
                var ours = lines[i].GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
                var theirs = reference.GetProperty(mode)[i].EnumerateArray().Select(e => e.GetInt32()).ToArray();
                Assert.True(theirs.SequenceEqual(ours), $"{mode} {i}: ours [{string.Join(",", ours)}], reference [{string.Join(",", theirs)}]");
                Assert.Equal(0, ours[0]); // forced <s>
            }
        }
    }

    [PythonTorchFact]
    public void Both_weight_files_give_the_same_tensors_bit_for_bit()
    {
        using var scope = torch.NewDisposeScope();
        var dir = Directory_.Value;
        var (config, _, _) = BartConfigFile.Read(Path.Combine(dir, "config.json"));
        var fromSafetensors = BartDirectory.Weights(dir, config, torch.CPU);
        var binOnly = CliRunner.TempPath("");
        System.IO.Directory.CreateDirectory(binOnly);
        foreach (var f in System.IO.Directory.GetFiles(dir).Where(f => !f.EndsWith(".safetensors")))
            File.Copy(f, Path.Combine(binOnly, Path.GetFileName(f)));
        var fromBin = BartDirectory.Weights(binOnly, config, torch.CPU);
        Assert.Equal(fromSafetensors.Count, fromBin.Count);
        foreach (var kv in fromSafetensors)
            Assert.True(kv.Value.eq(fromBin[kv.Key]).all().item<bool>(), kv.Key);
    }

    [PythonTorchFact]
    public void Broken_directories_name_the_file_and_the_tensor_or_key()
    {
        var dir = Directory_.Value;
        string Copy(Action<string> damage)
        {
            var d = CliRunner.TempPath("");
            System.IO.Directory.CreateDirectory(d);
            foreach (var f in System.IO.Directory.GetFiles(dir).Where(f => !f.EndsWith(".bin"))) File.Copy(f, Path.Combine(d, Path.GetFileName(f)));
            damage(d);
            return d;
        }
        void Config(string d, string key, string value)
        {
            var text = File.ReadAllText(Path.Combine(d, "config.json"));
            var json = System.Text.Json.Nodes.JsonNode.Parse(text)!.AsObject();
            json[key] = System.Text.Json.Nodes.JsonNode.Parse(value);
            File.WriteAllText(Path.Combine(d, "config.json"), json.ToJsonString());
        }
        var input = CliRunner.TempFile("hello\n");
        foreach (var (damage, expected) in new (Action<string>, string)[]
                 {
                     (d => Config(d, "add_final_layer_norm", "true"), "\"add_final_layer_norm\": true is not supported"),
                     (d => Config(d, "model_type", "\"t5\""), "\"model_type\": \"t5\" is not supported"),
                     // mBART's layout has a final layer norm per stack, which a BART checkpoint lacks.
                     (d => Config(d, "model_type", "\"mbart\""), "expected tensor model.encoder.layer_norm.weight [32], which the file lacks"),
                     (d => Config(d, "d_model", "48"), ", 32], expected ["),
                     (d => Config(d, "encoder_layers", "1"), "tensor model.encoder.layers.1.fc1.bias is not part of a BART model"),
                     (d => Config(d, "decoder_layers", "3"), "expected tensor model.decoder.layers.2."),
                     (d => File.Delete(Path.Combine(d, "merges.txt")), "merges.txt:0: expected the BART merges"),
                 })
        {
            var r = CliRunner.Run("generate", "--from", Copy(damage), "--input", input);
            Assert.Equal(2, r.ExitCode);
            Assert.Contains(expected, r.Stderr);
            Assert.Single(r.Stderr.Trim().Split('\n'));
        }
    }

    [Fact]
    public void The_BART_tokenizer_gives_GPT2_byte_level_pieces_with_the_vocabulary_ids_and_a_mask_that_takes_its_space()
    {
        // A BART-layout directory from the fixtures' GPT-2 files: vocab.json is encoder.json with <s> <pad> </s> <unk>
        // first and <mask> last; merges.txt is vocab.bpe.
        var dir = CliRunner.TempPath("");
        System.IO.Directory.CreateDirectory(dir);
        var gpt2 = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(Path.Combine(CliRunner.FixtureRoot, "gpt2_bpe", "encoder.json")))!;
        var vocab = new Dictionary<string, int> { ["<s>"] = 0, ["<pad>"] = 1, ["</s>"] = 2, ["<unk>"] = 3 };
        foreach (var (token, id) in gpt2.OrderBy(kv => kv.Value)) if (token != "<|endoftext|>") vocab[token] = id + 4;
        vocab["<mask>"] = vocab.Count;
        File.WriteAllText(Path.Combine(dir, "vocab.json"), JsonSerializer.Serialize(vocab));
        File.Copy(Path.Combine(CliRunner.FixtureRoot, "gpt2_bpe", "vocab.bpe"), Path.Combine(dir, "merges.txt"));
        var bart = (Masking.ITokenizer)BartTokenizer.FromDirectory(dir).ResultValue;
        var reference = (Masking.ITokenizer)Gpt2Tokenizer.FromFiles(Path.Combine(CliRunner.FixtureRoot, "gpt2_bpe")).ResultValue;
        foreach (var text in new[] { "Hello world", " leading space", "Zürich, 日本語 and 🙂 don't break", "  two  spaces\tand tab", "Hello\n\nWorld" })
        {
            Assert.Equal(reference.Encode(text).Ids.Select(id => id + 4), bart.Encode(text).Ids);
            Assert.Equal(text, bart.Decode(bart.Encode(text).Ids));
        }
        // BPE stays inside each pre-token, as in Hugging Face: "\n\n" before a word is "\n" "\n", not the merged "\n\n".
        Assert.Equal(new[] { 198, 198 }.Select(id => id + 4), bart.Encode("\n\nWorld").Ids.Take(2));
        var masked = bart.Encode("The capital is <mask>.");
        var mask = vocab["<mask>"];
        Assert.Equal(reference.Encode("The capital is").Ids.Select(id => id + 4).Append(mask).Concat(reference.Encode(".").Ids.Select(id => id + 4)), masked.Ids);
        Assert.Equal("The capital is<mask>.", bart.Decode(masked.Ids));
        Assert.Equal(new[] { 0, 1, 2, 3, mask }, new[] { bart.Specials.Bos, bart.Specials.Pad, bart.Specials.Eos, bart.Specials.Unk, bart.Specials.Mask });
    }
}
