using Masking.Experiments.Cli;
using Masking.Experiments.Training;
using Masking.Model;
using Microsoft.FSharp.Collections;
using TorchSharp;

namespace Masking.Experiments.HuggingFace;

/// <summary>
/// A model to generate with or score, with the conventions of where it came from. A Hugging Face BART
/// directory: sources and labels are <c>&lt;s&gt; … &lt;/s&gt;</c>, the decoder input is the labels shifted
/// right after decoder_start_token_id (Hugging Face's <c>shift_tokens_right</c>), generation settings from its
/// config files. One of our run directories: sources <c>&lt;s&gt; … &lt;/s&gt;</c>, labels <c>… &lt;/s&gt;</c>
/// (how its stages train), greedy up to the run's target length.
/// </summary>
public sealed record ModelSource(string Path, ModelConfig Config, FSharpMap<string, torch.Tensor> Parameters, Masking.ITokenizer Tokenizer,
    bool LabelsStartWithBos, GenerationSettings Generation)
{
    public Masking.SpecialTokens Specials => Tokenizer.Specials;

    /// <summary><c>&lt;s&gt; text &lt;/s&gt;</c>, cut to the model's positions (the last kept token is &lt;/s&gt;).</summary>
    public int[] Source(string text) => Stages.Wrap(Specials.Bos, Tokenizer.Encode(text).Ids, Specials.Eos, Config.MaxPositions);

    public int[] Labels(string text) =>
        Stages.Wrap(LabelsStartWithBos ? Specials.Bos : -1, Tokenizer.Encode(text).Ids, Specials.Eos, Config.MaxPositions);

    public static ModelSource Open(string path, torch.Device device)
    {
        var full = System.IO.Path.GetFullPath(path);
        if (!Directory.Exists(full)) throw new CliError($"{path}:0: expected a run directory or a Hugging Face model directory");
        if (BartDirectory.IsBartDirectory(full))
        {
            var m = BartDirectory.Load(full, device);
            return new ModelSource(full, m.Config, m.Parameters, m.Tokenizer, true, m.Generation);
        }
        var run = new RunDirectory(full);
        var checkpoint = File.Exists(run.BestCheckpoint) ? run.BestCheckpoint : run.LastCheckpoint;
        if (!File.Exists(checkpoint))
            throw new CliError($"{checkpoint}:0: expected a trained checkpoint, or a Hugging Face directory (config.json with {BartDirectory.Safetensors} or {BartDirectory.PyTorchBin})");
        var (state, _) = ModelState.Load(checkpoint, device, withOptimizer: false);
        var vocab = Stages.LoadVocab(run.VocabFile);
        var config = File.Exists(run.ConfigFile) ? RunConfig.FromJson(File.ReadAllText(run.ConfigFile)) : null;
        var maxTarget = config?.MaxTargetLength ?? 24;
        var none = Microsoft.FSharp.Core.FSharpOption<int>.None;
        return new ModelSource(full, state.Config, state.Parameters, vocab, false,
            new GenerationSettings(maxTarget + 1, 0, 1, 1.0, false, 0, none, none, true));
    }
}
