using System.Collections;
using Masking.Model;
using Masking.Tokenizers;
using Microsoft.FSharp.Collections;
using TorchSharp;
using TorchSharp.PyBridge;

namespace Masking.Experiments.HuggingFace;

/// <summary>A BART model read from a Hugging Face directory.</summary>
public sealed record BartModel(string Directory, ModelConfig Config, BartTokenIds Ids, FSharpMap<string, torch.Tensor> Parameters,
    BartTokenizer Tokenizer, GenerationSettings Generation);

/// <summary>
/// Hugging Face BART directories: <c>config.json</c> (BartConfig), <c>model.safetensors</c> or
/// <c>pytorch_model.bin</c> (read with TorchSharp.PyBridge), <c>vocab.json</c> + <c>merges.txt</c>, and
/// optionally <c>generation_config.json</c>. Tensor names are Hugging Face's, which are ours; the tied copies
/// of the embedding (<c>model.encoder.embed_tokens</c>, <c>model.decoder.embed_tokens</c>, <c>lm_head</c>) are
/// one tensor, as <c>tie_word_embeddings</c> makes them in Hugging Face.
/// </summary>
public static class BartDirectory
{
    public const string Safetensors = "model.safetensors";
    public const string PyTorchBin = "pytorch_model.bin";

    private static readonly string[] TiedCopies =
        ["model.shared.weight", "model.encoder.embed_tokens.weight", "model.decoder.embed_tokens.weight", "lm_head.weight"];

    /// <summary>Whether a directory is a Hugging Face model directory (rather than one of our run directories).</summary>
    public static bool IsBartDirectory(string path) =>
        File.Exists(Path.Combine(path, "config.json")) &&
        (File.Exists(Path.Combine(path, Safetensors)) || File.Exists(Path.Combine(path, PyTorchBin)));

    public static BartModel Load(string directory, torch.Device device)
    {
        var configPath = Path.Combine(directory, "config.json");
        if (!File.Exists(configPath)) throw new InputError($"{configPath}:0: expected a Hugging Face model configuration");
        var (config, ids, root) = BartConfigFile.Read(configPath);
        var tokenizer = BartTokenizer.FromDirectory(directory);
        if (tokenizer.IsError) throw new InputError(tokenizer.ErrorValue);
        var vocabSize = ((Masking.ITokenizer)tokenizer.ResultValue).Specials.VocabSize;
        if (vocabSize > config.VocabSize)
            throw new InputError($"{Path.Combine(directory, "vocab.json")}:0: the vocabulary has {vocabSize} tokens, config.json's vocab_size is {config.VocabSize}");
        var parameters = Weights(directory, config, device);
        var generation = BartConfigFile.Generation(root, Path.Combine(directory, "generation_config.json"), ids);
        return new BartModel(directory, config, ids, parameters, tokenizer.ResultValue, generation);
    }

    /// <summary>The state dict of the directory's weight file, as float32 parameters with our names, checked
    /// against the configuration: a missing, misshapen or unused tensor is an error naming the file and tensor.</summary>
    public static FSharpMap<string, torch.Tensor> Weights(string directory, ModelConfig config, torch.Device device)
    {
        var file = File.Exists(Path.Combine(directory, Safetensors)) ? Path.Combine(directory, Safetensors) : Path.Combine(directory, PyTorchBin);
        if (!File.Exists(file)) throw new InputError($"{Path.Combine(directory, Safetensors)}:0: expected the model's weights ({Safetensors} or {PyTorchBin})");
        Dictionary<string, torch.Tensor> state;
        try
        {
            state = file.EndsWith(".safetensors", StringComparison.Ordinal)
                ? TorchSharp.PyBridge.Safetensors.LoadStateDict(file)
                : PyTorchUnpickler.UnpickleStateDict(file).Cast<DictionaryEntry>().ToDictionary(e => (string)e.Key, e => (torch.Tensor)e.Value!);
        }
        catch (Exception e) when (e is not InputError)
        {
            throw new InputError($"{file}:0: cannot read the weights ({e.GetType().Name}: {e.Message})");
        }
        // A BartModel's state dict (no "model." prefix) is the same model without the head.
        if (!state.Keys.Any(k => k.StartsWith("model.", StringComparison.Ordinal)))
            state = state.ToDictionary(kv => kv.Key == "final_logits_bias" ? kv.Key : "model." + kv.Key, kv => kv.Value);

        using var scope = torch.NewDisposeScope();
        var shared = TiedCopies.FirstOrDefault(state.ContainsKey)
            ?? throw new InputError($"{file}:0: expected the token embedding (one of {string.Join(", ", TiedCopies)})");
        var expected = ParametersModule.shapes(config).ToDictionary(s => s.Item1, s => s.Item2);
        var result = new List<Tuple<string, torch.Tensor>>();
        foreach (var (name, shape) in expected)
        {
            torch.Tensor tensor;
            if (name == "model.shared.weight") tensor = state[shared];
            else if (state.TryGetValue(name, out var t)) tensor = t;
            // Hugging Face tolerates a missing final_logits_bias (a zero buffer) and so do we.
            else if (name == "final_logits_bias") tensor = torch.zeros(shape, dtype: torch.float32);
            else throw new InputError($"{file}:0: expected tensor {name} {Shape(shape)}, which the file lacks");
            if (!tensor.shape.SequenceEqual(shape))
                throw new InputError($"{file}:0: tensor {(name == "model.shared.weight" ? shared : name)} is {Shape(tensor.shape)}, expected {Shape(shape)} for this config.json");
            if (!tensor.is_floating_point()) throw new InputError($"{file}:0: tensor {name} is {tensor.dtype}, expected floating point");
            result.Add(Tuple.Create(name, tensor.to_type(torch.float32).to(device).detach().requires_grad_(true).MoveToOuterDisposeScope()));
        }
        foreach (var copy in TiedCopies.Where(state.ContainsKey))
            if (!state[copy].shape.SequenceEqual(state[shared].shape))
                throw new InputError($"{file}:0: tensor {copy} is {Shape(state[copy].shape)}, but the tied embedding {shared} is {Shape(state[shared].shape)}");
        var unused = state.Keys.Where(k => !expected.ContainsKey(k) && !TiedCopies.Contains(k)).Order(StringComparer.Ordinal).ToList();
        if (unused.Count > 0)
            throw new InputError($"{file}:0: tensor {unused[0]} is not part of a BART model of this config.json" +
                (unused.Count > 1 ? $" (and {unused.Count - 1} more)" : ""));
        foreach (var t in state.Values) t.Dispose();
        return MapModule.OfSeq(result);
    }

    private static string Shape(IEnumerable<long> shape) => "[" + string.Join(", ", shape) + "]";
}
