namespace Masking.Policies

open System
open System.Globalization
open Masking

/// A parsed policy spec, e.g. `rand:p=0.15`, `mix(ssm:0.5,rand:0.5)`, `schedule(rand@0,ssm@1000)`,
/// `union(ssm,rand:p=0.05)`, `within(rand:p=0.5,PER|DATE)`.
type PolicySpec =
    | NamedSpec of name: string * knobs: (string * KnobValue) list
    | MixSpec of (PolicySpec * float) list
    | ScheduleSpec of (PolicySpec * int64) list
    | UnionSpec of PolicySpec list
    | WithinSpec of PolicySpec * labels: string list

module PolicySpec =
    exception private ParseFailure of position: int * message: string

    /// The deepest nesting of mix, schedule, union and within a spec may have. It also bounds the work of naming
    /// each level by its spec (at most this many times the spec's length).
    [<Literal>]
    let MaxDepth = 64

    /// The labels annotations carry: the NER model's CoNLL types, the rules' DATE, NUMBER and NAME (NAME with
    /// `--annotator rules`), the generated world's. `within` with another label would mask nothing, silently.
    let knownLabels =
        [ "PER"
          "ORG"
          "LOC"
          "MISC"
          "DATE"
          "NUMBER"
          "NAME"
          Annotation.askedTest
          Annotation.askedDev ]

    let rec format (spec: PolicySpec) =
        let join (xs: string seq) = String.Join(",", xs)

        match spec with
        | NamedSpec(name, []) -> name
        | NamedSpec(name, knobs) -> sprintf "%s:%s" name (knobs |> List.map (fun (k, v) -> sprintf "%s=%O" k v) |> join)
        | MixSpec items ->
            sprintf
                "mix(%s)"
                (items
                 |> List.map (fun (s, w) -> sprintf "%s:%s" (format s) (w.ToString("R", CultureInfo.InvariantCulture)))
                 |> join)
        | ScheduleSpec items ->
            sprintf "schedule(%s)" (items |> List.map (fun (s, step) -> sprintf "%s@%d" (format s) step) |> join)
        | UnionSpec items -> sprintf "union(%s)" (items |> List.map format |> join)
        | WithinSpec(s, labels) -> sprintf "within(%s,%s)" (format s) (String.Join("|", labels))

    let private isIdent (c: char) =
        Char.IsLetterOrDigit c || c = '_' || c = '-'

    let private isValue (c: char) =
        not (Char.IsWhiteSpace c)
        && c <> ','
        && c <> ')'
        && c <> '('
        && c <> ':'
        && c <> '@'
        && c <> '='

    /// Parses a spec string; errors say where and what was expected.
    let parse (text: string) : Result<PolicySpec, string> =
        let pos = ref 0
        let fail msg = raise (ParseFailure(pos.Value, msg))
        let failAt at msg = raise (ParseFailure(at, msg))

        let peek () =
            if pos.Value < text.Length then text[pos.Value] else '\000'

        let skip () =
            while pos.Value < text.Length && Char.IsWhiteSpace text[pos.Value] do
                pos.Value <- pos.Value + 1

        let expect (c: char) =
            skip ()

            if peek () <> c then
                fail (sprintf "expected '%c'" c)

            pos.Value <- pos.Value + 1

        let read (pred: char -> bool) what =
            skip ()
            let start = pos.Value

            while pos.Value < text.Length && pred text[pos.Value] do
                pos.Value <- pos.Value + 1

            if pos.Value = start then
                fail (sprintf "expected %s" what)

            text.Substring(start, pos.Value - start)

        let tryNumber (s: string) =
            match Double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture) with
            | true, x -> Some x
            | _ -> None

        let readNumber what =
            let s = read isValue what

            match tryNumber s with
            | Some x -> x
            | None -> fail (sprintf "expected %s, got '%s'" what s)

        // After ':' or ',', is the next thing a knob (ident '=')?
        let knobAhead () =
            let mutable p = pos.Value

            while p < text.Length && Char.IsWhiteSpace text[p] do
                p <- p + 1

            let start = p

            while p < text.Length && isIdent text[p] do
                p <- p + 1

            while p < text.Length && Char.IsWhiteSpace text[p] do
                p <- p + 1

            p > start && p < text.Length && text[p] = '='

        let commaList (item: unit -> 'T) : 'T list =
            let items = ResizeArray<'T>()
            items.Add(item ())
            skip ()

            while peek () = ',' do
                pos.Value <- pos.Value + 1
                items.Add(item ())
                skip ()

            expect ')'
            List.ofSeq items

        // depth: how many combinators enclose this spec.
        let rec spec (depth: int) : PolicySpec =
            skip ()
            let start = pos.Value
            let name = read isIdent "a policy name"
            skip ()

            let combinator =
                peek () = '('
                && List.contains (name.ToLowerInvariant()) [ "mix"; "schedule"; "union"; "within" ]

            if combinator && depth >= MaxDepth then
                failAt start (sprintf "expected policies nested at most %d levels deep" MaxDepth)

            match name.ToLowerInvariant(), peek () with
            | "mix", '(' ->
                pos.Value <- pos.Value + 1

                let items =
                    commaList (fun () ->
                        let s = spec (depth + 1)
                        skip ()

                        if peek () = ':' then
                            pos.Value <- pos.Value + 1
                            s, readNumber "a mixture weight"
                        else
                            s, 1.0)

                MixSpec items
            | "schedule", '(' ->
                pos.Value <- pos.Value + 1
                // Steps increase as written: two entries from one step would leave the first unreachable.
                let previous = ref -1L

                let items =
                    commaList (fun () ->
                        skip ()
                        let entryAt = pos.Value
                        let s = spec (depth + 1)
                        skip ()

                        let step, stepAt =
                            if peek () = '@' then
                                pos.Value <- pos.Value + 1
                                skip ()
                                let at = pos.Value
                                let step = readNumber "a start step"

                                if step < 0.0 || step <> Math.Floor step then
                                    fail "expected a whole, non-negative start step"

                                int64 step, at
                            else
                                0L, entryAt

                        if step <= previous.Value then
                            failAt
                                stepAt
                                (sprintf
                                    "expected a start step after %d (steps increase, e.g. rand@0,ssm@1000)"
                                    previous.Value)

                        previous.Value <- step
                        s, step)

                ScheduleSpec items
            | "union", '(' ->
                pos.Value <- pos.Value + 1
                UnionSpec(commaList (fun () -> spec (depth + 1)))
            | "within", '(' ->
                pos.Value <- pos.Value + 1
                let inner = spec (depth + 1)
                expect ','
                skip ()
                let labelsAt = pos.Value
                let labels = read isValue "annotation labels such as PER|DATE"
                expect ')'

                let labels =
                    labels.Split('|', StringSplitOptions.RemoveEmptyEntries) |> List.ofArray

                let isKnown (l: string) =
                    knownLabels
                    |> List.exists (fun k -> String.Equals(k, l, StringComparison.OrdinalIgnoreCase))

                match labels |> List.tryFind (isKnown >> not) with
                | _ when labels.IsEmpty ->
                    failAt labelsAt (sprintf "expected annotation labels; known: %s" (String.Join("|", knownLabels)))
                | Some l ->
                    failAt
                        labelsAt
                        (sprintf "unknown annotation label '%s'; known: %s" l (String.Join("|", knownLabels)))
                | None -> WithinSpec(inner, labels)
            | _ ->
                let knobs = ResizeArray<string * KnobValue>()
                // ':' starts knobs only when `ident=` follows; otherwise it is a mixture weight.
                let beforeColon = pos.Value

                if peek () = ':' then
                    pos.Value <- pos.Value + 1

                    if knobAhead () then
                        let mutable more = true

                        while more do
                            skip ()
                            let keyAt = pos.Value
                            let key = read isIdent "a knob name"

                            if knobs |> Seq.exists (fun (k, _) -> k = key) then
                                failAt keyAt (sprintf "knob '%s' is given twice" key)

                            expect '='
                            let raw = read isValue (sprintf "a value for knob '%s'" key)

                            knobs.Add(
                                key,
                                match tryNumber raw with
                                | Some x -> Number x
                                | None -> Word raw
                            )

                            skip ()
                            let beforeComma = pos.Value

                            if peek () = ',' then
                                pos.Value <- pos.Value + 1

                                if not (knobAhead ()) then
                                    pos.Value <- beforeComma // the comma separates list items
                                    more <- false
                            else
                                more <- false
                    else
                        pos.Value <- beforeColon

                NamedSpec(name, List.ofSeq knobs)

        try
            let s = spec 0
            skip ()

            if pos.Value < text.Length then
                fail "expected the end of the spec"

            Ok s
        with ParseFailure(p, msg) ->
            // A spec of megabytes would make a line of megabytes: the column says where.
            let shown =
                if text.Length <= 200 then
                    text
                else
                    text.Substring(0, 200) + "…"

            Error(sprintf "policy spec '%s': at column %d: %s" shown (p + 1) msg)

    /// Builds the policy a spec describes.
    let rec toPolicy (specials: SpecialTokens) (spec: PolicySpec) : Result<Policy, string> =
        let all (items: 'a list) (f: 'a -> Result<'b, string>) =
            List.foldBack (fun x acc -> Result.bind (fun xs -> f x |> Result.map (fun y -> y :: xs)) acc) items (Ok [])

        let name = format spec

        match spec with
        | NamedSpec(policyName, knobs) ->
            match Named.tryFind policyName with
            | None ->
                Error(
                    sprintf
                        "unknown policy '%s'; known: %s (and mix, schedule, union, within)"
                        policyName
                        (String.Join(", ", Named.names))
                )
            | Some info ->
                Named.build specials info knobs
                |> Result.map (fun p -> if knobs.IsEmpty then p else { p with Name = name })
        | MixSpec items ->
            if items |> List.exists (fun (_, w) -> w < 0.0) || items |> List.sumBy snd <= 0.0 then
                Error(sprintf "policy spec '%s': mixture weights must be non-negative with a positive sum" name)
            else
                all items (fun (s, w) -> toPolicy specials s |> Result.map (fun p -> w, p))
                |> Result.map (fun ps -> Policy.mixture name ps)
        | ScheduleSpec items ->
            if not (items |> List.exists (fun (_, step) -> step = 0L)) then
                Error(sprintf "policy spec '%s': a schedule needs a policy from step 0 (write policy@0)" name)
            else
                all items (fun (s, step) -> toPolicy specials s |> Result.map (fun p -> step, p))
                |> Result.map (fun ps -> Policy.schedule name ps)
        | UnionSpec items ->
            all items (toPolicy specials)
            |> Result.bind (fun ps ->
                match ps with
                | [] -> Error "union needs at least one policy"
                | first :: rest ->
                    rest
                    |> List.fold (fun acc p -> acc |> Result.bind (fun a -> Policy.union name specials a p)) (Ok first))
        | WithinSpec(inner, labels) ->
            toPolicy specials inner
            |> Result.bind (Policy.within labels specials)
            |> Result.map (fun p -> { p with Name = name })

    /// Parses and builds in one step.
    let resolve (specials: SpecialTokens) (text: string) =
        parse text |> Result.bind (toPolicy specials)
