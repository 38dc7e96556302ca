using System.Text.Json;
using System.Text.Json.Nodes;
using Masking.Model;
using Masking.Tokenizers;
using Microsoft.FSharp.Collections;
using TorchSharp;

namespace Masking.Experiments.HuggingFace;

/// <summary>A model directory's tokenizer, with the label convention that goes with it.</summary>
/// <param name="LabelsStartWithBos">Hugging Face's BART convention (labels <c>&lt;s&gt; … &lt;/s&gt;</c>) for a
/// Hugging Face vocabulary; Masking's own vocabularies train labels <c>… &lt;/s&gt;</c>.</param>
public sealed record ModelTokenizer(ITokenizer Tokenizer, bool LabelsStartWithBos)
{
    /// <summary>The first label token (&lt;s&gt;), or -1 for none: what <see cref="Training.Prediction.Wrap"/> takes.</summary>
    public int LabelStart => LabelsStartWithBos ? Tokenizer.Specials.Bos : -1;

    /// <summary>Label tokens besides the text's own and &lt;/s&gt;: 1 with &lt;s&gt; first, else 0.</summary>
    public int ExtraLabelTokens => LabelsStartWithBos ? 1 : 0;
}

/// <summary>
/// The files a model lives in, in a run directory as in a Hugging Face directory: <c>config.json</c>
/// (BartConfig's keys), <c>model.safetensors</c> (Hugging Face's tensor names) and a tokenizer, which is either
/// Masking's own learned BPE (<c>byte-bpe.json</c>) or Hugging Face's files (<c>vocab.json</c> +
/// <c>merges.txt</c>, with the tokenizer configs). A stage that starts from a model copies its config and
/// tokenizer, so every run directory holds what it needs.
/// </summary>
public static class ModelDirectory
{
    public const string ConfigFile = "config.json";
    public const string ModelFile = "model.safetensors";
    public const string ByteBpeFile = "byte-bpe.json";
    public const string GenerationConfigFile = "generation_config.json";

    private static readonly string[] HuggingFaceTokenizerFiles =
        ["vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json", "tokenizer.json"];

    /// <summary>Whether a directory holds a model (ours or Hugging Face's): config.json and weights.</summary>
    public static bool HasModel(string directory) => BartDirectory.IsBartDirectory(directory);

    public static bool HasTokenizer(string directory) =>
        File.Exists(Path.Combine(directory, ByteBpeFile)) || File.Exists(Path.Combine(directory, "vocab.json"));

    public static ModelTokenizer LoadTokenizer(string directory)
    {
        var own = Path.Combine(directory, ByteBpeFile);
        if (File.Exists(own))
        {
            var m = ByteBpeModelModule.load(own);
            return m.IsOk ? new ModelTokenizer(new ByteBpeTokenizer(m.ResultValue), false) : throw new InputError(m.ErrorValue);
        }
        var bart = BartTokenizer.FromDirectory(directory);
        if (bart.IsError)
            throw new InputError(File.Exists(Path.Combine(directory, "vocab.json"))
                ? bart.ErrorValue
                : $"{Path.Combine(directory, ByteBpeFile)}:0: expected a tokenizer here ({ByteBpeFile}, or Hugging Face's vocab.json + merges.txt)");
        return new ModelTokenizer(bart.ResultValue, true);
    }

    /// <summary>Copies a model's config.json and tokenizer files into a run directory (those it lacks).</summary>
    public static void CopyConfigAndTokenizer(string from, string to)
    {
        Directory.CreateDirectory(to);
        var files = File.Exists(Path.Combine(from, ByteBpeFile)) ? [ByteBpeFile] : HuggingFaceTokenizerFiles;
        foreach (var name in files.Append(ConfigFile).Append(GenerationConfigFile))
            if (File.Exists(Path.Combine(from, name)) && !File.Exists(Path.Combine(to, name)))
                CopyFile(Path.Combine(from, name), Path.Combine(to, name));
    }

    /// <summary>A copy under a temporary name, then renamed: a reader never sees half a file.</summary>
    public static void CopyFile(string source, string target)
    {
        var temp = AtomicFile.tempFor(target);
        File.Copy(source, temp, overwrite: true);
        AtomicFile.commit(temp, target);
    }

    /// <summary>The model's configuration and parameters (float32, requiring gradients) from its directory.</summary>
    public static (ModelConfig Config, FSharpMap<string, torch.Tensor> Parameters) LoadModel(string directory, torch.Device device)
    {
        var configPath = Path.Combine(directory, ConfigFile);
        if (!File.Exists(configPath)) throw new InputError($"{configPath}:0: expected the model's configuration (BartConfig)");
        var (config, _, _) = BartConfigFile.Read(configPath);
        var weights = BartDirectory.Weights(directory, config, device);
        var file = Path.Combine(directory, File.Exists(Path.Combine(directory, ModelFile)) ? ModelFile : BartDirectory.PyTorchBin);
        foreach (var (name, tensor) in weights) Training.ModelState.RequireFinite(file, name, tensor);
        return (config, weights);
    }

    /// <summary>model.safetensors: the parameters under Hugging Face's names, with {"format": "pt"} metadata.</summary>
    public static void SaveModel(string directory, FSharpMap<string, torch.Tensor> parameters, IReadOnlyDictionary<string, string> meta)
    {
        Checkpoint.save(Path.Combine(directory, ModelFile), ListModule.OfSeq(parameters.Select(kv => Tuple.Create(kv.Key, kv.Value))),
            MapModule.OfSeq(meta.Select(kv => Tuple.Create(kv.Key, kv.Value))));
    }

    /// <summary>config.json for one of Masking's own models (unless the directory has one).</summary>
    public static void WriteConfig(string directory, ModelConfig config, int bosId)
    {
        var path = Path.Combine(directory, ConfigFile);
        if (!File.Exists(path)) Training.RunDirectory.WriteAtomically(path, BartConfigFile.Write(config, bosId));
    }

    /// <summary>
    /// The Hugging Face tokenizer files of a model directory into another: copied when the model has Hugging
    /// Face's, or written from Masking's own BPE (vocab.json + merges.txt with our ids; tokenizer_config.json and
    /// special_tokens_map.json that make <c>AutoTokenizer</c> a BartTokenizer with our specials and sentinels).
    /// </summary>
    public static void ExportTokenizer(string from, string to, int maxPositions)
    {
        var own = Path.Combine(from, ByteBpeFile);
        if (!File.Exists(own))
        {
            foreach (var name in HuggingFaceTokenizerFiles.Where(n => File.Exists(Path.Combine(from, n))))
                CopyFile(Path.Combine(from, name), Path.Combine(to, name));
            return;
        }
        var model = ByteBpeModelModule.load(own);
        if (model.IsError) throw new InputError(model.ErrorValue);
        var files = HuggingFaceVocab.ofByteBpe(model.ResultValue);
        if (files.IsError) throw new InputError($"{own}:0: {files.ErrorValue}");
        HuggingFaceVocab.write(to, files.ResultValue);
        var added = new JsonObject();
        foreach (var (id, text) in files.ResultValue.Added)
            added[id.ToString(System.Globalization.CultureInfo.InvariantCulture)] = new JsonObject
            {
                ["content"] = text, ["lstrip"] = text == "<mask>", ["normalized"] = false, ["rstrip"] = false,
                ["single_word"] = false, ["special"] = true,
            };
        var sentinels = files.ResultValue.Added.Select(a => a.Item2).Where(t => t.StartsWith("<extra_id_", StringComparison.Ordinal)).ToArray();
        var specials = new JsonObject
        {
            ["bos_token"] = "<s>", ["eos_token"] = "</s>", ["unk_token"] = "<unk>", ["sep_token"] = "</s>", ["cls_token"] = "<s>",
            ["pad_token"] = "<pad>", ["mask_token"] = "<mask>",
            ["additional_special_tokens"] = new JsonArray(sentinels.Select(s => (JsonNode)JsonValue.Create(s)!).ToArray()),
        };
        var config = JsonNode.Parse(specials.ToJsonString())!.AsObject();
        config["tokenizer_class"] = "BartTokenizer";
        config["add_prefix_space"] = false;
        config["errors"] = "replace";
        config["model_max_length"] = maxPositions;
        config["added_tokens_decoder"] = added;
        var indented = new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        Training.RunDirectory.WriteAtomically(Path.Combine(to, "special_tokens_map.json"), specials.ToJsonString(indented) + "\n");
        Training.RunDirectory.WriteAtomically(Path.Combine(to, "tokenizer_config.json"), config.ToJsonString(indented) + "\n");
    }
}
