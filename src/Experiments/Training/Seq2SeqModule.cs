using Masking.Model;
using Microsoft.FSharp.Collections;
using static TorchSharp.torch;

namespace Masking.Experiments.Training;

/// <summary>
/// The functional model as a TorchSharp module: its parameters are registered (dots in the BART names become
/// underscores, which TorchSharp requires), so TorchSharp's optimisers, <c>parameters()</c> and
/// <c>state_dict()</c> work on it, while <see cref="Parameters"/> gives the same tensors under their BART names
/// for the functional forward (and for θ' = θ − α∇θ).
/// </summary>
public sealed class Seq2SeqModule : nn.Module<Tensor, Tensor, Tensor>
{
    public ModelConfig Config { get; }
    public FSharpMap<string, Tensor> Parameters { get; }

    // Dropout's masks in training mode: the module's own stream, never libtorch's global generator.
    private readonly Generator _dropout;

    /// <param name="dropoutSeed">Seeds the stream that dropout's masks are drawn from in training mode.</param>
    public Seq2SeqModule(ModelConfig config, FSharpMap<string, Tensor> initial, long dropoutSeed = 0) : base("Seq2Seq")
    {
        Config = config;
        _dropout = new Generator((ulong)dropoutSeed, CPU);
        var owned = new List<Tuple<string, Tensor>>();
        foreach (var kv in initial)
        {
            // The detached view is held until the clone exists: a temporary's finalizer may free it mid-call.
            using var detached = kv.Value.detach();
            var parameter = new TorchSharp.Modules.Parameter(detached.clone(), requires_grad: true);
            register_parameter(kv.Key.Replace('.', '_'), parameter);
            owned.Add(Tuple.Create(kv.Key, (Tensor)parameter));
        }
        Parameters = MapModule.OfSeq(owned);
    }

    public static Seq2SeqModule Create(ModelConfig config, long seed) =>
        new(config, ParametersModule.init(config, seed, CPU), seed);

    /// <summary>Logits [B, T, V]; dropout follows the module's training mode.</summary>
    public override Tensor forward(Tensor source, Tensor decoderInput) =>
        Seq2Seq.forward(Config, Parameters, training ? Dropout.NewFrom(_dropout) : Dropout.Off, source, decoderInput);
}
