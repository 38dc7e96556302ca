namespace Masking.Policies

open System
open System.Collections.Generic
open System.IO
open System.Text.Encodings.Web
open System.Text.Json
open Masking
open Masking.Tasks

/// How a PMI masking vocabulary is built from a corpus.
type PmiOptions =
    {
        /// The longest n-gram, in words (Levine et al. use 2 to 5).
        MaxN: int
        /// An n-gram seen fewer times is never ranked: PMI favours rare n-grams, and a count of one says nothing.
        MinCount: int
        /// How many n-grams to keep, best PMI first.
        Size: int
    }

    static member Defaults = { MaxN = 5; MinCount = 5; Size = 10000 }

/// One n-gram of the vocabulary: its text (for people), its words' token ids (for the policy), its corpus count
/// and its PMI_n.
type PmiEntry =
    { Text: string
      Words: int[][]
      Count: int
      Pmi: float }

/// PMI-masking's vocabulary (Levine et al., ICLR 2021). PMI_n of an n-gram is the smallest, over every way of
/// cutting it into two or more contiguous pieces, of log p(n-gram) − Σ log p(piece), each p a count over the
/// corpus's positions for that length: an n-gram ranks high only when no split of it explains it.
/// Counts run within a line, over the tokenizer's whole words; n-grams with a word that has no letter or digit
/// (punctuation, spaces) are not ranked. All lengths are ranked together by PMI_n [R: the paper's per-length
/// shares are not in the method notes].
module PmiVocabulary =
    let format = "masking-pmi-vocab/1"

    let private hasLetterOrDigit (s: string) = s |> Seq.exists Char.IsLetterOrDigit

    /// The ranked n-grams of a corpus, best first (ties: higher count, then text, then ids, so the order is total).
    let build (tokenizer: ITokenizer) (options: PmiOptions) (lines: string seq) : PmiEntry[] * int64 =
        let specials = tokenizer.Specials
        let counts = Array.init (options.MaxN + 1) (fun _ -> Dictionary<string, int>())
        let positions = Array.zeroCreate<int64> (options.MaxN + 1)
        let wordIds = Dictionary<string, int[]>()
        let qualifies = Dictionary<string, bool>()
        let mutable words = 0L

        for line in lines do
            let ex = Example.ofEncoded (tokenizer.Encode line)
            let ws = Units.words specials ex
            let keys = ws |> Array.map (Ngrams.wordKey ex.Tokens)
            words <- words + int64 ws.Length

            for k in 0 .. ws.Length - 1 do
                if not (qualifies.ContainsKey keys[k]) then
                    let ids = ex.Tokens[ws[k].Start .. ws[k].End - 1]
                    wordIds[keys[k]] <- ids
                    qualifies[keys[k]] <- hasLetterOrDigit (tokenizer.Decode ids)

            for n in 1 .. options.MaxN do
                positions[n] <- positions[n] + int64 (max 0 (ws.Length - n + 1))

                for i in 0 .. ws.Length - n do
                    // Longer n-grams only of adjacent, qualifying words (their pieces then qualify too).
                    let adjacent =
                        n = 1
                        || seq { i .. i + n - 1 } |> Seq.forall (fun j -> qualifies[keys[j]])
                           && seq { i .. i + n - 2 } |> Seq.forall (fun j -> ws[j].End = ws[j + 1].Start)

                    if adjacent then
                        let key = Ngrams.key keys[i .. i + n - 1]
                        let c = counts[n]

                        c[key] <-
                            (match c.TryGetValue key with
                             | true, v -> v
                             | _ -> 0)
                            + 1

        let logP (pieceKeys: string[]) =
            let n = pieceKeys.Length
            let c = counts[n]
            log (float c[Ngrams.key pieceKeys]) - log (float positions[n])

        let pmi (wordKeys: string[]) =
            let n = wordKeys.Length
            let whole = logP wordKeys

            // Every cut of n words into contiguous pieces: a bit per gap between two words, at least one set.
            seq { 1 .. (1 <<< (n - 1)) - 1 }
            |> Seq.map (fun cuts ->
                let mutable start = 0
                let mutable sum = 0.0

                for gap in 0 .. n - 1 do
                    if gap = n - 1 || (cuts >>> gap) &&& 1 = 1 then
                        sum <- sum + logP wordKeys[start..gap]
                        start <- gap + 1

                whole - sum)
            |> Seq.min

        let entries =
            [| for n in 2 .. options.MaxN do
                   for KeyValue(key, count) in counts[n] do
                       if count >= options.MinCount then
                           let wordKeys = key.Split ' '
                           let ids = wordKeys |> Array.map (fun w -> wordIds[w])

                           yield
                               { Text = (tokenizer.Decode(Array.concat ids)).Trim()
                                 Words = ids
                                 Count = count
                                 Pmi = Math.Round(pmi wordKeys, 6) } |]
            |> Array.sortWith (fun a b ->
                match compare b.Pmi a.Pmi with
                | 0 ->
                    match compare b.Count a.Count with
                    | 0 ->
                        match String.CompareOrdinal(a.Text, b.Text) with
                        | 0 -> compare a.Words b.Words
                        | c -> c
                    | c -> c
                | c -> c)
            |> Array.truncate options.Size

        entries, words

    let private json =
        JsonSerializerOptions(Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping)

    /// The vocabulary as JSON, one n-gram a line (so that a diff reads as a list), written through a temporary.
    let write (path: string) (tokenizer: ITokenizer) (options: PmiOptions) (corpusWords: int64) (entries: PmiEntry[]) =
        let header =
            JsonSerializer.Serialize(
                {| format = format
                   tokenizer = tokenizer.Name
                   vocab_size = tokenizer.Specials.VocabSize
                   max_n = options.MaxN
                   min_count = options.MinCount
                   corpus_words = corpusWords |},
                json
            )

        let lines =
            entries
            |> Array.map (fun e ->
                JsonSerializer.Serialize(
                    {| text = e.Text
                       words = e.Words
                       count = e.Count
                       pmi = e.Pmi |},
                    json
                ))

        let body = String.Join(",\n", lines)

        AtomicFile.writeAllText
            path
            (header.TrimEnd('}')
             + ",\"ngrams\":[\n"
             + body
             + (if lines.Length > 0 then "\n" else "")
             + "]}\n")

    /// Reads a vocabulary written by `write`; errors name the file and the line.
    let load (path: string) : Result<NgramVocabulary, string> =
        if not (File.Exists path) then
            Error(sprintf "%s:0: expected a PMI masking vocabulary (written by masking pmi-vocab)" path)
        else
            try
                let root = JsonText.parse path 1 (File.ReadAllText path)

                if JsonText.stringField path "format" root <> format then
                    JsonText.fail path root.Line "expected \"format\": \"%s\"" format

                let integer (what: string) (node: JsonNode) =
                    match node.Value with
                    | JNumber x ->
                        match
                            Int32.TryParse(
                                x,
                                Globalization.NumberStyles.None,
                                Globalization.CultureInfo.InvariantCulture
                            )
                        with
                        | true, v -> v
                        | _ -> JsonText.fail path node.Line "expected %s as a non-negative integer, found %s" what x
                    | v -> JsonText.fail path node.Line "expected %s as an integer, found %s" what (JsonText.kind v)

                let vocabSize = integer "\"vocab_size\"" (JsonText.field path "vocab_size" root)
                let ranks = Dictionary<string, int>()
                let mutable longest = 1

                for entry in JsonText.field path "ngrams" root |> JsonText.array path "\"ngrams\"" do
                    let words =
                        JsonText.field path "words" entry
                        |> JsonText.array path "\"words\""
                        |> List.map (fun w ->
                            let ids =
                                JsonText.array path "a word's token ids" w |> List.map (integer "a token id")

                            match ids |> List.tryFind (fun id -> id >= vocabSize) with
                            | Some id ->
                                JsonText.fail
                                    path
                                    w.Line
                                    "expected token ids below vocab_size %d, found %d"
                                    vocabSize
                                    id
                            | None when ids.IsEmpty ->
                                JsonText.fail path w.Line "expected a word of at least one token"
                            | None -> String.Join('.', ids))

                    if words.Length < 2 then
                        JsonText.fail path entry.Line "expected an n-gram of at least two words, found %d" words.Length

                    // The first listing of an n-gram is its rank (the file lists the best first).
                    ranks.TryAdd(Ngrams.key words, ranks.Count) |> ignore
                    longest <- max longest words.Length

                Ok(NgramVocabulary(ranks, longest, vocabSize))
            with ReadFailure(file, line, message) ->
                Error(sprintf "%s:%d: %s" file line message)
