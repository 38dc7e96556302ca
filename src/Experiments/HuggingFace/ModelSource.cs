using Masking.Experiments.Training;
using Masking.Model;
using Microsoft.FSharp.Collections;
using TorchSharp;

namespace Masking.Experiments.HuggingFace;

/// <summary>
/// A model to generate with or score, with the conventions of where it came from. With a Hugging Face
/// vocabulary: sources and labels are <c>&lt;s&gt; … &lt;/s&gt;</c>, the decoder input is the labels shifted
/// right after decoder_start_token_id (Hugging Face's <c>shift_tokens_right</c>). With Masking's own
/// vocabulary: sources <c>&lt;s&gt; … &lt;/s&gt;</c>, labels <c>… &lt;/s&gt;</c> (how its stages train).
/// Generation settings come from config.json and generation_config.json, as in Hugging Face; in one of our
/// runs, the maximum length is the run's target length.
/// </summary>
public sealed record ModelSource(string Path, ModelConfig Config, FSharpMap<string, torch.Tensor> Parameters, Masking.ITokenizer Tokenizer,
    bool LabelsStartWithBos, GenerationSettings Generation)
{
    public Masking.SpecialTokens Specials => Tokenizer.Specials;

    /// <summary><c>&lt;s&gt; text &lt;/s&gt;</c>, cut to the model's positions (the last kept token is &lt;/s&gt;).</summary>
    public int[] Source(string text) => Prediction.Wrap(Specials.Bos, Tokenizer.Encode(text).Ids, Specials.Eos, Config.MaxPositions);

    public int[] Labels(string text) =>
        Prediction.Wrap(LabelsStartWithBos ? Specials.Bos : -1, Tokenizer.Encode(text).Ids, Specials.Eos, Config.MaxPositions);

    public static ModelSource Open(string path, torch.Device device)
    {
        var full = System.IO.Path.GetFullPath(path);
        if (!Directory.Exists(full)) throw new InputError($"{path}:0: expected a run directory or a Hugging Face model directory");
        var run = new RunDirectory(full);
        if (!ModelDirectory.HasModel(full))
            throw new InputError(File.Exists(run.ConfigFile)
                ? $"{run.ModelFile}:0: expected the run's model (written when the run finishes)"
                : $"{System.IO.Path.Combine(full, ModelDirectory.ConfigFile)}:0: expected a Hugging Face directory (config.json with {BartDirectory.Safetensors} or {BartDirectory.PyTorchBin}) or a finished run");
        // config.json read once: the model's shape, and its ids and generation settings.
        var (config, ids, root) = BartConfigFile.Read(run.ModelConfigFile);
        var tokenizer = ModelDirectory.LoadTokenizer(full);
        var vocabSize = tokenizer.Tokenizer.Specials.VocabSize;
        if (vocabSize > config.VocabSize)
            throw new InputError($"{System.IO.Path.Combine(full, "vocab.json")}:0: the vocabulary has {vocabSize} tokens, config.json's vocab_size is {config.VocabSize}");
        var parameters = BartDirectory.Weights(full, config, device);
        var generation = BartConfigFile.Generation(root, System.IO.Path.Combine(full, ModelDirectory.GenerationConfigFile), ids);
        if (File.Exists(run.ConfigFile) && RunConfig.FromJson(File.ReadAllText(run.ConfigFile)) is { } settings)
            generation = new GenerationSettings(settings.MaxTargetLength + 1, generation.MinLength, generation.NumBeams, generation.LengthPenalty,
                generation.EarlyStopping, generation.NoRepeatNgramSize, generation.ForcedBosId, generation.ForcedEosId, generation.UseCache);
        return new ModelSource(full, config, parameters, tokenizer.Tokenizer, tokenizer.LabelsStartWithBos, generation);
    }
}
