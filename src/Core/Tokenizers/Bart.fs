namespace Masking.Tokenizers

open System
open System.Collections.Generic
open System.IO
open System.Text
open System.Text.Json
open Microsoft.ML.Tokenizers
open Masking

/// Hugging Face's BART tokenizer: GPT-2's byte-level BPE read from a model directory's vocab.json and
/// merges.txt, with the vocabulary's own ids (`<s>` 0, `<pad>` 1, `</s>` 2, `<unk>` 3, `<mask>` where
/// vocab.json puts it: 50264 in facebook/bart-base). As in Hugging Face, `<mask>` written in a text is the
/// mask token, and it takes the spaces before it (its added token has lstrip=True): " <mask>" is one token.
/// That is the one exception to decode (encode text) = text; the other special names are plain text here.
[<Sealed>]
type BartTokenizer private (inner: Tokenizer, idToToken: Dictionary<int, string>, specials: SpecialTokens, name: string)
    =
    static let maskText = "<mask>"

    static let specialNames = [| "<s>"; "<pad>"; "</s>"; "<unk>"; "<mask>" |]

    let isSpecialName (id: int) =
        match idToToken.TryGetValue id with
        | true, t -> Array.contains t specialNames
        | _ -> false

    /// Reads vocab.json (token → id) and merges.txt of a Hugging Face BART directory.
    static member FromDirectory(directory: string) : Result<BartTokenizer, string> =
        let vocabPath = Path.Combine(directory, "vocab.json")
        let mergesPath = Path.Combine(directory, "merges.txt")

        if not (File.Exists vocabPath) then
            Error(sprintf "%s:0: expected the BART vocabulary (vocab.json) here" vocabPath)
        elif not (File.Exists mergesPath) then
            Error(sprintf "%s:0: expected the BART merges (merges.txt) here" mergesPath)
        else
            let vocab =
                try
                    Ok(JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText vocabPath))
                with :? JsonException as e ->
                    Error(
                        sprintf
                            "%s:%d: expected a JSON object of token → id (%s)"
                            vocabPath
                            (int (e.LineNumber.GetValueOrDefault 0L) + 1)
                            e.Message
                    )

            match vocab with
            | Error e -> Error e
            | Ok vocab ->
                let missing = specialNames |> Array.tryFind (fun s -> not (vocab.ContainsKey s))

                match missing with
                | Some s -> Error(sprintf "%s:0: expected the special token %s in the vocabulary" vocabPath s)
                | None ->
                    try
                        let options =
                            BpeOptions(
                                vocabPath,
                                mergesPath,
                                ByteLevel = true,
                                PreTokenizer = RegexPreTokenizer(WordBoundaries.pretokenRegex, null),
                                UnknownToken = "<unk>"
                            )

                        let inner = BpeTokenizer.Create options
                        let idToToken = Dictionary<int, string>()

                        for KeyValue(t, id) in vocab do
                            idToToken[id] <- t

                        let size = (Seq.max vocab.Values) + 1

                        let specials =
                            SpecialTokens.create
                                vocab["<s>"]
                                vocab["<pad>"]
                                vocab["</s>"]
                                vocab["<unk>"]
                                vocab["<mask>"]
                                [||]
                                []
                                size

                        Ok(BartTokenizer(inner, idToToken, specials, sprintf "bart(%s)" directory))
                    with e ->
                        Error(
                            sprintf
                                "%s:0: expected a byte-level BPE vocabulary with its merges (%s)"
                                mergesPath
                                e.Message
                        )

    /// The plain BPE pieces of a segment of text, with offsets shifted to where the segment starts.
    member private _.EncodePlain(text: string, start: int, length: int, ids: List<int>, offsets: List<Span>) =
        if length > 0 then
            let segment = text.Substring(start, length)
            let mutable normalized: string = null
            let tokens = inner.EncodeToTokens(segment, &normalized, true, false)

            for t in tokens do
                ids.Add t.Id

                offsets.Add
                    { Start = start + t.Offset.Start.GetOffset segment.Length
                      End = start + t.Offset.End.GetOffset segment.Length }

    interface ITokenizer with
        member _.Name = name
        member _.Specials = specials

        member this.Encode(text: string) =
            let ids = List<int>()
            let offsets = List<Span>()
            let mutable at = 0
            let mutable next = text.IndexOf(maskText, StringComparison.Ordinal)

            while next >= 0 do
                // lstrip: the whitespace before <mask> belongs to the mask token.
                let mutable cut = next

                while cut > at && Char.IsWhiteSpace text[cut - 1] do
                    cut <- cut - 1

                this.EncodePlain(text, at, cut - at, ids, offsets)
                ids.Add specials.Mask

                offsets.Add
                    { Start = cut
                      End = next + maskText.Length }

                at <- next + maskText.Length
                next <- text.IndexOf(maskText, at, StringComparison.Ordinal)

            this.EncodePlain(text, at, text.Length - at, ids, offsets)
            let offsets = offsets.ToArray()

            { Ids = ids.ToArray()
              WordStarts = WordBoundaries.fromOffsets text offsets
              Offsets = offsets }

        member _.Decode(ids: int[]) =
            let sb = StringBuilder()
            let run = List<int>()

            let flush () =
                if run.Count > 0 then
                    sb.Append(inner.Decode run) |> ignore
                    run.Clear()

            for id in ids do
                if id < 0 || id >= specials.VocabSize || not (idToToken.ContainsKey id) then
                    invalidArg
                        (nameof ids)
                        (sprintf "token id %d is not in the vocabulary (size %d)" id specials.VocabSize)
                elif isSpecialName id then
                    flush ()
                    sb.Append idToToken[id] |> ignore
                else
                    run.Add id

            flush ()
            sb.ToString()

        member this.TokenText(id: int) = (this :> ITokenizer).Decode [| id |]
