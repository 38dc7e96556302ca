namespace Masking.Policies

open Masking

/// The three parts of the denoising recipe (T5's preprocessors have the same shape).
type DenoiseParts =
    { Choose: Chooser
      Replace: Replacement
      Target: TargetFormat }

/// A masking policy: a pure function of (context with seed, example). Denoising policies keep their
/// parts so that they can be recombined (union) and their outputs checked (Recover).
type Policy =
    { Name: string
      Parts: DenoiseParts option
      Apply: MaskContext -> Example -> Masked }

module Policy =
    /// choose → build input → build target, all drawing from one generator seeded by the context.
    let denoise (name: string) (specials: SpecialTokens) (parts: DenoiseParts) : Policy =
        let apply (ctx: MaskContext) (ex: Example) =
            let rng = Rng ctx.Seed
            let spans = parts.Choose specials rng ex

            { Source = Build.source specials parts.Replace rng ex.Tokens spans
              Target = Build.target specials parts.Target ex.Tokens spans
              Spans = spans }

        { Name = name
          Parts = Some parts
          Apply = apply }

    /// Each example is masked by one policy drawn with the given weights (from its own seed).
    let mixture (name: string) (weighted: (float * Policy) list) : Policy =
        let total = weighted |> List.sumBy fst

        if
            weighted.IsEmpty
            || total <= 0.0
            || weighted |> List.exists (fun (w, _) -> w < 0.0)
        then
            invalidArg
                (nameof weighted)
                "a mixture needs at least one policy and non-negative weights with a positive sum"

        let apply (ctx: MaskContext) ex =
            let u = (Rng(Seeds.salt "mixture" ctx.Seed)).NextDouble() * total

            let rec pick acc =
                function
                | [ (_, p: Policy) ] -> p
                | (w, p) :: rest -> if u < acc + w then p else pick (acc + w) rest
                | [] -> failwith "unreachable: the list is not empty"

            (pick 0.0 weighted).Apply ctx ex

        { Name = name
          Parts = None
          Apply = apply }

    /// The policy in force at the context's step: the last entry whose start step has been reached.
    let schedule (name: string) (stages: (int64 * Policy) list) : Policy =
        let sorted = stages |> List.sortBy fst

        match sorted with
        | [] -> invalidArg (nameof stages) "a schedule needs at least one policy"
        | (first, _) :: _ when first <> 0L -> invalidArg (nameof stages) "a schedule must start at step 0"
        | _ -> ()

        let apply (ctx: MaskContext) ex =
            let _, p = sorted |> List.findBack (fun (step, _) -> step <= ctx.Step)
            p.Apply ctx ex

        { Name = name
          Parts = None
          Apply = apply }

    /// Masks what either policy chooses, with the first policy's replacement and target format.
    let union (name: string) (specials: SpecialTokens) (a: Policy) (b: Policy) : Result<Policy, string> =
        match a.Parts, b.Parts with
        | Some pa, Some pb ->
            Ok(
                denoise
                    name
                    specials
                    { pa with
                        Choose = Choose.union pa.Choose pb.Choose }
            )
        | _ -> Error(sprintf "union needs two denoising policies; '%s' or '%s' is a mixture or schedule" a.Name b.Name)

    /// Restricts a denoising policy to annotated spans (with the given labels, or any).
    let within (labels: string list) (specials: SpecialTokens) (p: Policy) : Result<Policy, string> =
        match p.Parts with
        | Some parts ->
            Ok(
                denoise
                    (sprintf "within(%s)" p.Name)
                    specials
                    { parts with
                        Choose = Choose.within labels parts.Choose }
            )
        | None -> Error(sprintf "'%s' is not a denoising policy" p.Name)

/// Recovers the original tokens from (source, target, spans): the check that a policy loses nothing.
module Recover =
    let original
        (specials: SpecialTokens)
        (replacement: Replacement)
        (format: TargetFormat)
        (m: Masked)
        : Result<int[], string> =
        let spans = m.Spans
        let fromTarget = Array.zeroCreate spans.Length
        let mutable error = None

        let fail msg =
            if error.IsNone then
                error <- Some msg

        match format with
        | FullSequence -> ()
        | MaskedSpans _
        | SentinelSpans ->
            let mutable t = 0

            for k in 0 .. spans.Length - 1 do
                let separated =
                    match format with
                    | MaskedSpans leading -> leading || k > 0
                    | _ -> true

                if separated then
                    let expected =
                        match format with
                        | SentinelSpans -> specials.Sentinels[k]
                        | _ -> specials.Mask

                    if t >= m.Target.Length || m.Target[t] <> expected then
                        fail (sprintf "target: expected separator %d before span %d at %d" expected k t)

                    t <- t + 1

                let len = spans[k].Length

                if t + len > m.Target.Length then
                    fail (sprintf "target: span %d runs past the end" k)
                else
                    fromTarget[k] <- m.Target[t .. t + len - 1]

                t <- t + len

            if t <> m.Target.Length then
                fail (sprintf "target: %d tokens left over" (m.Target.Length - t))

        // Walk the source: unmasked stretches are copied, replaced spans are skipped by their known length.
        let original = ResizeArray<int>()
        let mutable src = 0
        let mutable at = 0

        for k in 0 .. spans.Length - 1 do
            let s = spans[k]

            if s.Start < at then
                fail "spans overlap or are out of order"

            let gap = s.Start - at

            if src + gap > m.Source.Length then
                fail "source: too short"
            else
                original.AddRange m.Source[src .. src + gap - 1]

            src <- src + gap
            let replaced = Build.replacedLength replacement s.Length

            match replacement with
            | MaskPerSpan when src < m.Source.Length && m.Source[src] <> specials.Mask ->
                fail (sprintf "source: expected <mask> at %d" src)
            | SentinelPerSpan when src < m.Source.Length && m.Source[src] <> specials.Sentinels[k] ->
                fail (sprintf "source: expected sentinel %d at %d" k src)
            | _ -> ()

            src <- src + replaced

            match format with
            | FullSequence ->
                if s.End <= m.Target.Length then
                    original.AddRange m.Target[s.Start .. s.End - 1]
                else
                    fail "target: shorter than the spans"
            | _ ->
                if not (isNull fromTarget[k]) then
                    original.AddRange fromTarget[k]

            at <- s.End

        if src <= m.Source.Length then
            original.AddRange m.Source[src..]
        else
            fail "source: too short"

        let result = original.ToArray()

        match format, error with
        | _, Some e -> Error e
        | FullSequence, None when result <> m.Target -> Error "source and spans disagree with the full-sequence target"
        | _, None -> Ok result
