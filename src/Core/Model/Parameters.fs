namespace Masking.Model

open TorchSharp

/// The model's parameters as named tensors. Names map one-to-one onto facebook/bart-base's checkpoint
/// (with "final_logits_bias" and the tied "model.shared.weight"), so loading it is a small step.
type Parameters = Map<string, torch.Tensor>

module Parameters =
    let private linearShapes (prefix: string) (outDim: int) (inDim: int) =
        [ prefix + ".weight", [| int64 outDim; int64 inDim |]
          prefix + ".bias", [| int64 outDim |] ]

    let private norm (prefix: string) (d: int) =
        [ prefix + ".weight", [| int64 d |]; prefix + ".bias", [| int64 d |] ]

    let private attention (prefix: string) (d: int) =
        [ for p in [ "q_proj"; "k_proj"; "v_proj"; "out_proj" ] do
              yield! linearShapes (prefix + "." + p) d d ]

    /// Every parameter's name and shape, in a fixed order (the order of initialisation and checkpoints).
    let shapes (c: ModelConfig) : (string * int64[]) list =
        let d = c.DModel

        let stack (name: string) (layers: int) (cross: bool) =
            [ yield "model." + name + ".embed_positions.weight", [| int64 (c.MaxPositions + 2); int64 d |]
              yield! norm ("model." + name + ".layernorm_embedding") d
              for i in 0 .. layers - 1 do
                  let l = sprintf "model.%s.layers.%d" name i
                  yield! attention (l + ".self_attn") d
                  yield! norm (l + ".self_attn_layer_norm") d

                  if cross then
                      yield! attention (l + ".encoder_attn") d
                      yield! norm (l + ".encoder_attn_layer_norm") d

                  yield! linearShapes (l + ".fc1") c.FfnDim d
                  yield! linearShapes (l + ".fc2") d c.FfnDim
                  yield! norm (l + ".final_layer_norm") d
              if c.PreNorm then
                  yield! norm ("model." + name + ".layer_norm") d ]

        [ yield "model.shared.weight", [| int64 c.VocabSize; int64 d |]
          yield! stack "encoder" c.EncoderLayers false
          yield! stack "decoder" c.DecoderLayers true
          yield "final_logits_bias", [| 1L; int64 c.VocabSize |] ]

    /// BART's initialisation: weights ~ N(0, 0.02), biases 0, layer norms (1, 0), the padding embedding row 0.
    /// Draws from `generator` (a CPU one), in the fixed order of `shapes`.
    let initWith (c: ModelConfig) (generator: torch.Generator) (device: torch.Device) : Parameters =
        use _ = torch.no_grad ()
        // Holds every wrapper made here (TorchSharp's temporaries too) until the end, so that no finalizer frees
        // one while libtorch reads it (see Scalars); the parameters leave the scope.
        use _ = torch.NewDisposeScope()

        shapes c
        |> List.map (fun (name, shape) ->
            let isNorm = name.Contains "layer_norm" || name.Contains "layernorm_embedding"

            let t =
                if name.EndsWith ".bias" || name = "final_logits_bias" then
                    torch.zeros (shape, dtype = torch.float32)
                elif isNorm then
                    torch.ones (shape, dtype = torch.float32)
                else
                    Scalars.ofFloat 0.02 (fun std ->
                        torch.randn(shape, dtype = torch.float32, generator = generator).mul_ std)

            if name = "model.shared.weight" then
                t.select(0L, int64 c.PadId).zero_ () |> ignore

            name, t.``to``(device).requires_grad_(true).MoveToOuterDisposeScope())
        |> Map.ofList

    /// The same, drawn from a generator of its own seeded with `seed`: the stream libtorch's global generator
    /// seeded so gives, without touching that one.
    let init (c: ModelConfig) (seed: int64) (device: torch.Device) : Parameters =
        use generator = new torch.Generator(uint64 seed, torch.CPU)
        initWith c generator device

    let count (p: Parameters) =
        p |> Seq.sumBy (fun kv -> kv.Value.numel ())

    /// A copy with no autograd history (for snapshots and the best checkpoint).
    let detachedCopy (p: Parameters) : Parameters =
        use _ = torch.no_grad ()
        use _ = torch.NewDisposeScope()
        p |> Map.map (fun _ t -> t.detach().clone().MoveToOuterDisposeScope())
