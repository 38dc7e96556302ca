namespace Masking.Taggers

open System
open Masking

/// Word features for the taggers, hashed straight into weight buckets (no strings allocated per token),
/// so tagging stays fast.
module Features =
    /// FNV-1a over a template id and the characters of a span of text.
    let inline private start (template: int) =
        Fnv1a.add Fnv1a.offset (uint64 template)

    let inline private addChar (h: uint64) (c: char) = Fnv1a.add h (uint64 c)

    let hashSpan (template: int) (s: string) (from: int) (length: int) =
        let mutable h = start template

        for i in from .. from + length - 1 do
            h <- addChar h s[i]

        h

    let hashString (template: int) (s: string) = hashSpan template s 0 s.Length

    /// The hash of a, "|", b, "|", c (three strings joined), without building the joined string.
    let hashStrings (template: int) (a: string) (b: string) (c: string) =
        let mutable h = start template

        for x in a do
            h <- addChar h x

        h <- addChar h '|'

        for x in b do
            h <- addChar h x

        h <- addChar h '|'

        for x in c do
            h <- addChar h x

        h

    let hashLower (template: int) (s: string) =
        let mutable h = start template

        for c in s do
            h <- addChar h (Char.ToLowerInvariant c)

        h

    let hashInts (template: int) (a: int) (b: int) =
        let h = start template
        let h = addChar h (char (a &&& 0xFFFF))
        addChar h (char (b &&& 0xFFFF))

    let combine (h: uint64) (x: uint64) = Fnv1a.add h x

    let private charClass (c: char) =
        if Char.IsUpper c then 'X'
        elif Char.IsLower c then 'x'
        elif Char.IsDigit c then 'd'
        else c

    /// X for upper case, x for lower, d for digits, other characters kept, runs cut at maxRun.
    let private shapeWith (maxRun: int) (word: string) =
        let sb = Text.StringBuilder(min word.Length 12)
        let mutable last = ' '
        let mutable run = 0

        for c in word do
            let k = charClass c
            if k = last then run <- run + 1 else run <- 1
            last <- k

            if run <= maxRun then
                sb.Append k |> ignore

        sb.ToString()

    /// The word's shape, runs cut at two ("McDonald's" → "XxXxx'x", "1984" → "dd").
    let shape (word: string) = shapeWith 2 word

    /// The shape with every run collapsed to one character ("Xx", "d.d", "X.X.").
    let shortShape (word: string) = shapeWith 1 word

    let isTitle (w: string) =
        w.Length > 0 && Char.IsUpper w[0] && (w.Length = 1 || not (Char.IsUpper w[1]))

    let isAllCaps (w: string) =
        let mutable upper, lower = false, false

        for c in w do
            if Char.IsUpper c then
                upper <- true
            elif Char.IsLower c then
                lower <- true

        upper && not lower

    let hasDigit (w: string) =
        let mutable found = false

        for c in w do
            if Char.IsDigit c then
                found <- true

        found

    /// Title case 1, all capitals 2, a digit 4, a hyphen 8.
    /// A sentence without lower-case letters (CoNLL headlines, shouted lines): capitalisation says little there.
    let isHeadline (words: string[]) =
        words |> Array.forall (fun x -> not (x |> Seq.exists Char.IsLower))

    let wordFlags (w: string) =
        (if isTitle w then 1 else 0)
        ||| (if isAllCaps w then 2 else 0)
        ||| (if hasDigit w then 4 else 0)
        ||| (if w.Contains '-' then 8 else 0)
