namespace Masking.Model

open System
open TorchSharp

/// The keys and values an incremental decoder has computed: per decoder layer, the self-attention's keys and
/// values of the positions decoded so far ([B, H, T, d/H]) and the cross-attention's of the encoder states
/// ([B, H, S, d/H], computed once), with the source's padding mask.
type DecoderCache =
    {
        Self: (torch.Tensor * torch.Tensor)[]
        Cross: (torch.Tensor * torch.Tensor)[]
        SourceMask: torch.Tensor
        /// Positions decoded so far.
        Length: int64
    }

/// Incremental decoding, as Hugging Face's BART does with past_key_values: each step embeds one token at
/// the next position and attends to the cached keys and values, instead of running the decoder over the whole
/// prefix again. Without a decoder padding mask, as generate runs it (Seq2Seq.decodeCausal computes the same).
module DecoderCache =
    let private split (c: ModelConfig) (x: torch.Tensor) =
        let h = int64 c.Heads
        x.view(x.shape[0], x.shape[1], h, int64 c.DModel / h).transpose (1L, 2L)

    let private keysValues (c: ModelConfig) (p: Parameters) (name: string) (x: torch.Tensor) =
        split c (Seq2Seq.linear p (name + ".k_proj") x), split c (Seq2Seq.linear p (name + ".v_proj") x)

    let private attend
        (c: ModelConfig)
        (p: Parameters)
        (name: string)
        (query: torch.Tensor)
        (keys: torch.Tensor)
        values
        mask
        =
        let b, tq = query.shape[0], query.shape[1]
        let hd = int64 c.DModel / int64 c.Heads

        let q =
            split
                c
                (Scalars.ofFloat (Math.Pow(float hd, -0.5)) (fun s -> (Seq2Seq.linear p (name + ".q_proj") query).mul s))

        let scores = q.matmul (keys.transpose (-2L, -1L))

        let scores =
            match mask with
            | Some(m: torch.Tensor) -> Scalars.(+.) scores m
            | None -> scores

        let out =
            torch.nn.functional.softmax(scores, -1L).matmul(values).transpose(1L, 2L).reshape (b, tq, int64 c.DModel)

        Seq2Seq.linear p (name + ".out_proj") out

    let private keep (t: torch.Tensor) = t.MoveToOuterDisposeScope()

    /// The cache before the first step: every layer's cross-attention keys and values of the encoder states.
    let start (c: ModelConfig) (p: Parameters) (encoded: torch.Tensor) (source: torch.Tensor) : DecoderCache =
        use _ = torch.no_grad ()
        use _ = torch.NewDisposeScope()

        { Self = [||]
          Cross =
            [| for i in 0 .. c.DecoderLayers - 1 ->
                   let k, v = keysValues c p (sprintf "model.decoder.layers.%d.encoder_attn" i) encoded
                   keep k, keep v |]
          SourceMask = keep (Seq2Seq.paddingMask c source)
          Length = 0L }

    /// One step: the logits [B, V] after `tokens` [B] (the tokens at position cache.Length), and the cache with
    /// their keys and values. The given cache's self-attention tensors are disposed (the new ones extend them).
    let step
        (c: ModelConfig)
        (p: Parameters)
        (cache: DecoderCache)
        (tokens: torch.Tensor)
        : torch.Tensor * DecoderCache =
        use _ = torch.no_grad ()
        use _ = torch.NewDisposeScope()

        let mutable x =
            Seq2Seq.embedAt c p "decoder" Dropout.Off cache.Length (tokens.unsqueeze 1L)

        let self = Array.zeroCreate c.DecoderLayers

        for i in 0 .. c.DecoderLayers - 1 do
            let l = sprintf "model.decoder.layers.%d" i

            let selfAttention (h: torch.Tensor) =
                let k, v = keysValues c p (l + ".self_attn") h

                let k, v =
                    if cache.Self.Length = 0 then
                        k, v
                    else
                        let pk, pv = cache.Self[i]
                        torch.cat ([| pk; k |], 2L), torch.cat ([| pv; v |], 2L)

                self[i] <- (keep k, keep v)
                attend c p (l + ".self_attn") h k v None

            x <- Seq2Seq.sublayer c p (l + ".self_attn_layer_norm") Dropout.Off selfAttention x

            let ck, cv = cache.Cross[i]

            x <-
                Seq2Seq.sublayer
                    c
                    p
                    (l + ".encoder_attn_layer_norm")
                    Dropout.Off
                    (fun h -> attend c p (l + ".encoder_attn") h ck cv (Some cache.SourceMask))
                    x

            x <- Seq2Seq.sublayer c p (l + ".final_layer_norm") Dropout.Off (Seq2Seq.feedForward c p l Dropout.Off) x

        let x =
            if c.PreNorm then
                Seq2Seq.norm p "model.decoder.layer_norm" x
            else
                x

        let logits =
            Scalars.(+.) (torch.nn.functional.linear (x, p["model.shared.weight"])) p["final_logits_bias"]

        for k, v in cache.Self do
            k.Dispose()
            v.Dispose()

        keep (logits.squeeze 1L),
        { cache with
            Self = self
            Length = cache.Length + 1L }

    /// The cache of the hypotheses chosen for the next step: row j of the result is row index[j] of the cache.
    /// Only the self-attention part moves: beam search keeps a row's beams within the row, and they share its
    /// encoder states. The given cache's self-attention tensors are disposed.
    let reorder (cache: DecoderCache) (index: int64[]) : DecoderCache =
        use _ = torch.no_grad ()
        use _ = torch.NewDisposeScope()
        let at = torch.tensor (index, dtype = torch.int64, device = cache.SourceMask.device)

        let pick (t: torch.Tensor) =
            let picked = keep (t.index_select (0L, at))
            t.Dispose()
            picked

        { cache with
            Self = cache.Self |> Array.map (fun (k, v) -> pick k, pick v) }
