namespace Masking

/// A half-open range [Start, End) of token (or character) offsets.
[<Struct>]
type Span =
    { Start: int
      End: int }

    member s.Length = s.End - s.Start
    override s.ToString() = sprintf "[%d, %d)" s.Start s.End

module Span =
    let create start stop = { Start = start; End = stop }

    /// Sorts spans and merges those that overlap or touch: a run of masked tokens is one span.
    let normalize (spans: Span[]) =
        if spans.Length <= 1 then
            spans |> Array.filter (fun s -> s.Length > 0)
        else
            let sorted = spans |> Array.filter (fun s -> s.Length > 0)

            System.Array.Sort(
                sorted,
                System.Comparison(fun a b ->
                    if a.Start <> b.Start then
                        compare a.Start b.Start
                    else
                        compare a.End b.End)
            )

            let merged = ResizeArray<Span>(sorted.Length)

            for s in sorted do
                if merged.Count > 0 && s.Start <= merged[merged.Count - 1].End then
                    let last = merged[merged.Count - 1]
                    merged[merged.Count - 1] <- { last with End = max last.End s.End }
                else
                    merged.Add s

            merged.ToArray()

    /// The maximal runs of true in a mask over token positions (sorted, disjoint, never touching).
    let ofMarks (marks: bool[]) : Span[] =
        let mutable runs = 0

        for i in 0 .. marks.Length - 1 do
            if marks[i] && (i = 0 || not marks[i - 1]) then
                runs <- runs + 1

        let spans = Array.zeroCreate runs
        let mutable k = 0
        let mutable i = 0

        while i < marks.Length do
            if marks[i] then
                let start = i

                while i < marks.Length && marks[i] do
                    i <- i + 1

                spans[k] <- { Start = start; End = i }
                k <- k + 1
            else
                i <- i + 1

        spans

    let totalLength (spans: Span[]) =
        let mutable n = 0

        for s in spans do
            n <- n + s.Length

        n

/// The special tokens a policy needs and a fast test for "never mask this id".
type SpecialTokens =
    {
        Bos: int
        Pad: int
        Eos: int
        Unk: int
        Mask: int
        /// T5-style sentinels `<extra_id_0>`, `<extra_id_1>`, ... in order.
        Sentinels: int[]
        VocabSize: int
        /// IsSpecial[id] is true for every id that must never be masked or drawn as a random replacement.
        IsSpecial: bool[]
    }

    member t.IsSpecialId(id: int) =
        id < 0 || id >= t.IsSpecial.Length || t.IsSpecial[id]

module SpecialTokens =
    /// Builds the table from the ids of all special tokens (including any extra ones such as `<|endoftext|>`).
    let create bos pad eos unk mask (sentinels: int[]) (extra: int seq) vocabSize =
        let isSpecial = Array.zeroCreate vocabSize

        for id in Seq.append [ bos; pad; eos; unk; mask ] (Seq.append sentinels extra) do
            isSpecial[id] <- true

        { Bos = bos
          Pad = pad
          Eos = eos
          Unk = unk
          Mask = mask
          Sentinels = sentinels
          VocabSize = vocabSize
          IsSpecial = isSpecial }

/// A tokenised text: ids, which tokens start a word, and each token's character range in the text.
type Encoded =
    { Ids: int[]
      WordStarts: bool[]
      Offsets: Span[] }

/// What every tokenizer offers. Encoding never interprets special-token names in the text, so
/// decode (encode text) = text for every string.
type ITokenizer =
    abstract Name: string
    abstract Specials: SpecialTokens
    abstract Encode: text: string -> Encoded
    /// Renders special tokens by their names (`<mask>`, `<extra_id_0>`, ...).
    abstract Decode: ids: int[] -> string
    /// The display form of one token (specials by name, others decoded alone).
    abstract TokenText: id: int -> string
