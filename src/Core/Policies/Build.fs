namespace Masking.Policies

open Masking

/// What replaces a masked span in the source.
type Replacement =
    /// One `<mask>` per span (BART).
    | MaskPerSpan
    /// One `<mask>` per masked token.
    | MaskPerToken
    /// BERT's 80/10/10: each token (or each whole span) becomes `<mask>` with maskProb, a random
    /// non-special token with randomProb, and stays as it is otherwise.
    | Corrupt of maskProb: float * randomProb: float * perSpan: bool
    /// A unique sentinel `<extra_id_k>` for the k-th span (T5).
    | SentinelPerSpan
    /// The span is removed.
    | Delete

/// What the decoder must produce.
type TargetFormat =
    /// The whole original sequence (BART, `orig`).
    | FullSequence
    /// The masked spans in order, each preceded by `<mask>`; without the leading separator, separators
    /// stand only between spans (so a single span is just its tokens, as in salient span masking).
    | MaskedSpans of leadingSeparator: bool
    /// Each span preceded by its sentinel (T5).
    | SentinelSpans

/// "Build input" and "build target" of the denoising recipe.
module Build =
    /// How many source tokens a masked span of the given length becomes.
    let replacedLength (replacement: Replacement) (length: int) =
        match replacement with
        | MaskPerSpan
        | SentinelPerSpan -> 1
        | MaskPerToken
        | Corrupt _ -> length
        | Delete -> 0

    let private sentinel (specials: SpecialTokens) (k: int) =
        if k >= specials.Sentinels.Length then
            invalidArg
                "spans"
                (sprintf "%d spans need more than the %d sentinels the vocabulary has" (k + 1) specials.Sentinels.Length)

        specials.Sentinels[k]

    let private randomToken (specials: SpecialTokens) (rng: Rng) =
        let mutable t = rng.NextInt specials.VocabSize

        while specials.IsSpecial[t] do
            t <- rng.NextInt specials.VocabSize

        t

    /// The encoder input: unmasked tokens as they are, each span replaced.
    let source (specials: SpecialTokens) (replacement: Replacement) (rng: Rng) (tokens: int[]) (spans: Span[]) =
        let mutable length = tokens.Length

        for s in spans do
            length <- length - s.Length + replacedLength replacement s.Length

        let out = Array.zeroCreate length
        let mutable o = 0
        let mutable i = 0

        for k in 0 .. spans.Length - 1 do
            let s = spans[k]
            let before = s.Start - i
            System.Array.Copy(tokens, i, out, o, before)
            o <- o + before

            match replacement with
            | MaskPerSpan ->
                out[o] <- specials.Mask
                o <- o + 1
            | SentinelPerSpan ->
                out[o] <- sentinel specials k
                o <- o + 1
            | MaskPerToken ->
                for _ in 1 .. s.Length do
                    out[o] <- specials.Mask
                    o <- o + 1
            | Corrupt(maskProb, randomProb, perSpan) ->
                let mutable u = rng.NextDouble()

                for j in s.Start .. s.End - 1 do
                    if not perSpan && j > s.Start then
                        u <- rng.NextDouble()

                    out[o] <-
                        if u < maskProb then specials.Mask
                        elif u < maskProb + randomProb then randomToken specials rng
                        else tokens[j]

                    o <- o + 1
            | Delete -> ()

            i <- s.End

        System.Array.Copy(tokens, i, out, o, tokens.Length - i)
        out

    /// The decoder target.
    let target (specials: SpecialTokens) (format: TargetFormat) (tokens: int[]) (spans: Span[]) =
        match format with
        | FullSequence -> Array.copy tokens
        | MaskedSpans leading ->
            let separators = if leading then spans.Length else max 0 (spans.Length - 1)
            let out = Array.zeroCreate (Span.totalLength spans + separators)
            let mutable o = 0

            for k in 0 .. spans.Length - 1 do
                if leading || k > 0 then
                    out[o] <- specials.Mask
                    o <- o + 1

                let s = spans[k]
                System.Array.Copy(tokens, s.Start, out, o, s.Length)
                o <- o + s.Length

            out
        | SentinelSpans ->
            let out = Array.zeroCreate (Span.totalLength spans + spans.Length)
            let mutable o = 0

            for k in 0 .. spans.Length - 1 do
                out[o] <- sentinel specials k
                o <- o + 1
                let s = spans[k]
                System.Array.Copy(tokens, s.Start, out, o, s.Length)
                o <- o + s.Length

            out
