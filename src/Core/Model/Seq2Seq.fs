namespace Masking.Model

open System
open TorchSharp
open Masking.Model.Scalars

type private F = TorchSharp.torch.nn.functional

/// The BART-style forward pass as a function of explicit parameters, so that the meta-learned policy can
/// run it with θ' = θ − α∇θ (a new set of tensors through which gradients flow). Batch-first throughout.
module Seq2Seq =
    let private layerNormEps = 1e-5
    let private negative = Single.MinValue

    let internal linear (p: Parameters) (name: string) (x: torch.Tensor) =
        F.linear (x, p[name + ".weight"], p[name + ".bias"])

    let internal norm (p: Parameters) (name: string) (x: torch.Tensor) =
        let w = p[name + ".weight"]
        F.layer_norm (x, [| w.shape[0] |], w, p[name + ".bias"], layerNormEps)

    /// An additive mask hiding padded keys: [B, 1, 1, S], 0 where visible, the float minimum where padded.
    let paddingMask (c: ModelConfig) (ids: torch.Tensor) =
        held (fun () ->
            let pad =
                Scalars.ofInt (int64 c.PadId) (fun padId -> ids.eq(padId).unsqueeze(1L).unsqueeze (2L))

            Scalars.using (TorchSharp.Scalar.op_Implicit negative) (fun low ->
                torch.zeros(pad.shape, dtype = torch.float32, device = ids.device).masked_fill (pad, low)))

    /// An additive causal mask [1, 1, T, T].
    let causalMask (t: int64) (device: torch.Device) =
        held (fun () ->
            torch
                .triu(
                    Scalars.using (TorchSharp.Scalar.op_Implicit negative) (fun low ->
                        torch.full ([| t; t |], low, dtype = torch.float32, device = device)),
                    1L
                )
                .unsqueeze(0L)
                .unsqueeze (0L))

    let private attention
        (c: ModelConfig)
        (p: Parameters)
        (name: string)
        dropout
        (query: torch.Tensor)
        (keyValue: torch.Tensor)
        (mask: torch.Tensor)
        =
        let b, tq, tk = query.shape[0], query.shape[1], keyValue.shape[1]
        let h = int64 c.Heads
        let hd = int64 c.DModel / h
        let scaling = Math.Pow(float hd, -0.5)
        let split (x: torch.Tensor) (t: int64) = x.view(b, t, h, hd).transpose (1L, 2L)

        let q =
            split (Scalars.ofFloat scaling (fun s -> (linear p (name + ".q_proj") query).mul s)) tq

        let k = split (linear p (name + ".k_proj") keyValue) tk
        let v = split (linear p (name + ".v_proj") keyValue) tk
        let scores = q.matmul (k.transpose (-2L, -1L)) +. mask
        let probs = F.softmax (scores, -1L) |> Dropout.apply c.AttentionDropout dropout
        let out = probs.matmul(v).transpose(1L, 2L).reshape (b, tq, int64 c.DModel)
        linear p (name + ".out_proj") out

    /// Residual sub-layer, post-norm (BART) or pre-norm.
    let internal sublayer
        (c: ModelConfig)
        (p: Parameters)
        (normName: string)
        dropout
        (f: torch.Tensor -> torch.Tensor)
        (x: torch.Tensor)
        =
        if c.PreNorm then
            x +. (norm p normName x |> f |> Dropout.apply c.Dropout dropout)
        else
            norm p normName (x +. (f x |> Dropout.apply c.Dropout dropout))

    let internal feedForward (c: ModelConfig) (p: Parameters) (layer: string) dropout (x: torch.Tensor) =
        linear p (layer + ".fc1") x
        |> F.gelu
        |> Dropout.apply c.ActivationDropout dropout
        |> linear p (layer + ".fc2")

    /// Token plus learned position embeddings of ids [B, T] standing at positions offset … offset + T − 1.
    let internal embedAt (c: ModelConfig) (p: Parameters) (stack: string) dropout (offset: int64) (ids: torch.Tensor) =
        let b, t = ids.shape[0], ids.shape[1]

        let tokens =
            p["model.shared.weight"].index_select(0L, ids.reshape (-1L)).view (b, t, int64 c.DModel)

        let tokens =
            if c.ScaleEmbedding then
                Scalars.ofFloat (sqrt (float c.DModel)) (fun s -> tokens.mul s)
            else
                tokens

        let positions =
            Scalars.ofInt (2L + offset) (fun start ->
                Scalars.ofInt (t + 2L + offset) (fun stop ->
                    torch.arange (start, stop, one, dtype = torch.int64, device = ids.device)))

        let x =
            tokens
            +. p["model." + stack + ".embed_positions.weight"].index_select (0L, positions)

        norm p ("model." + stack + ".layernorm_embedding") x
        |> Dropout.apply c.Dropout dropout

    let private embed c p stack dropout ids = embedAt c p stack dropout 0L ids

    /// Encoder states [B, S, d] for source ids [B, S].
    let encode (c: ModelConfig) (p: Parameters) (dropout: Dropout) (source: torch.Tensor) =
        use _ = torch.NewDisposeScope()
        let mask = paddingMask c source
        let mutable x = embed c p "encoder" dropout source

        for i in 0 .. c.EncoderLayers - 1 do
            let l = sprintf "model.encoder.layers.%d" i

            x <-
                sublayer
                    c
                    p
                    (l + ".self_attn_layer_norm")
                    dropout
                    (fun h -> attention c p (l + ".self_attn") dropout h h mask)
                    x

            x <- sublayer c p (l + ".final_layer_norm") dropout (feedForward c p l dropout) x

        (if c.PreNorm then norm p "model.encoder.layer_norm" x else x).MoveToOuterDisposeScope()

    /// The decoder over inputs [B, T] with the given self-attention mask, cross-attending the encoder states.
    let private decodeMasked
        (c: ModelConfig)
        (p: Parameters)
        (dropout: Dropout)
        (encoded: torch.Tensor)
        (source: torch.Tensor)
        (decoderInput: torch.Tensor)
        (selfMask: torch.Tensor)
        =
        use _ = torch.NewDisposeScope()
        let sourceMask = paddingMask c source

        let mutable x = embed c p "decoder" dropout decoderInput

        for i in 0 .. c.DecoderLayers - 1 do
            let l = sprintf "model.decoder.layers.%d" i

            x <-
                sublayer
                    c
                    p
                    (l + ".self_attn_layer_norm")
                    dropout
                    (fun h -> attention c p (l + ".self_attn") dropout h h selfMask)
                    x

            x <-
                sublayer
                    c
                    p
                    (l + ".encoder_attn_layer_norm")
                    dropout
                    (fun h -> attention c p (l + ".encoder_attn") dropout h encoded sourceMask)
                    x

            x <- sublayer c p (l + ".final_layer_norm") dropout (feedForward c p l dropout) x

        let x = if c.PreNorm then norm p "model.decoder.layer_norm" x else x
        // The output projection is tied to the token embeddings.
        (F.linear (x, p["model.shared.weight"]) +. p["final_logits_bias"]).MoveToOuterDisposeScope()

    /// Logits [B, T, V] for decoder inputs [B, T] given encoder states and the source ids (for its padding); the
    /// decoder's own padding is hidden too (training batches pad targets on the right).
    let decode c p dropout (encoded: torch.Tensor) source (decoderInput: torch.Tensor) =
        held (fun () ->
            decodeMasked
                c
                p
                dropout
                encoded
                source
                decoderInput
                (causalMask decoderInput.shape[1] decoderInput.device
                 +. paddingMask c decoderInput))

    /// The same with the causal mask alone, as Hugging Face's generate runs BART (no decoder attention mask): a
    /// generated <pad> id is a token like any other.
    let decodeCausal c p (encoded: torch.Tensor) source (decoderInput: torch.Tensor) =
        held (fun () ->
            decodeMasked
                c
                p
                Dropout.Off
                encoded
                source
                decoderInput
                (causalMask decoderInput.shape[1] decoderInput.device))

    let forward
        (c: ModelConfig)
        (p: Parameters)
        (dropout: Dropout)
        (source: torch.Tensor)
        (decoderInput: torch.Tensor)
        =
        held (fun () -> decode c p dropout (encode c p dropout source) source decoderInput)

/// The seq2seq objective: label-smoothed cross-entropy over non-pad target tokens.
module Loss =
    /// CrossFit's label smoothing (its BART wrapper): (1 − ε)·NLL + (ε / V)·Σ_v −log p_v per token, summed over
    /// non-pad targets and divided by their number. Optional per-token weights (same shape as target) scale
    /// each token's loss, for the meta-learned policy's probability-weighted MLM loss.
    let labelSmoothed
        (epsilon: float)
        (padId: int)
        (logits: torch.Tensor)
        (target: torch.Tensor)
        (weights: torch.Tensor option)
        =
        use _ = torch.NewDisposeScope()
        let vocab = logits.shape[logits.shape.Length - 1]
        let lprobs = F.log_softmax (logits, -1L)
        let nll = lprobs.gather(-1L, target.unsqueeze (-1L)).squeeze(-1L).neg ()
        let smooth = lprobs.sum(-1L).neg ()
        let keep = Scalars.ofInt (int64 padId) (fun s -> target.ne s)

        let perToken =
            Scalars.ofFloat (1.0 - epsilon) (fun s -> nll.mul s)
            +. Scalars.ofFloat (epsilon / float vocab) (fun s -> smooth.mul s)

        let perToken =
            Scalars.ofFloat 0.0 (fun zero -> perToken.masked_fill (keep.logical_not (), zero))

        let perToken =
            match weights with
            | Some w -> perToken * w
            | None -> perToken

        (perToken.sum ()
         / Scalars.ofInt 1L (fun one -> keep.sum().clamp_min(one).to_type (torch.float32)))
            .MoveToOuterDisposeScope()
