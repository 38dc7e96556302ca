namespace Masking.Tokenizers

open System
open System.Collections.Generic
open System.IO
open System.Text
open System.Text.Encodings.Web
open System.Text.Json
open Masking

/// One of Masking's learned byte-level BPE vocabularies as Hugging Face writes GPT-2 and BART vocabularies:
/// vocab.json (token text → id) and merges.txt (one merge per line, in rank order), where a token's text is its
/// bytes through GPT-2's byte-to-character table. The ids stay ours, so a model trained with the vocabulary
/// keeps its embedding rows; the specials and sentinels become added tokens of tokenizer_config.json.
module HuggingFaceVocab =
    /// GPT-2's reversible map from bytes to printable characters (openai/gpt-2 encoder.py `bytes_to_unicode`):
    /// printable Latin-1 bytes stand for themselves, the others take the characters from U+0100 on.
    let byteToChar: char[] =
        let printable =
            set ([ int '!' .. int '~' ] @ [ int '¡' .. int '¬' ] @ [ int '®' .. int 'ÿ' ])

        let table = Array.zeroCreate<char> 256
        let mutable next = 256

        for b in 0..255 do
            if printable.Contains b then
                table[b] <- char b
            else
                table[b] <- char next
                next <- next + 1

        table

    let tokenText (bytes: byte[]) =
        String(bytes |> Array.map (fun b -> byteToChar[int b]))

    type Files =
        {
            Vocab: (string * int)[]
            Merges: (string * string)[]
            /// Specials and sentinels: (id, text).
            Added: (int * string)[]
        }

    /// The vocabulary's files, or an error when two ids spell the same bytes (BPE can reach one string by two
    /// merge orders; vocab.json maps a text to one id, so such a vocabulary has no faithful vocab.json).
    let ofByteBpe (model: ByteBpeModel) : Result<Files, string> =
        let bytes = ByteBpeModel.tokenBytes model
        let size = ByteBpeModel.vocabSize model

        let texts =
            Array.init size (fun id ->
                match ByteBpeModel.specialName model id with
                | Some name -> name
                | None -> tokenText bytes[id])

        let seen = Dictionary<string, int>(StringComparer.Ordinal)
        let mutable clash = None

        for id in 0 .. size - 1 do
            match seen.TryGetValue texts[id] with
            | true, other when clash.IsNone -> clash <- Some(other, id)
            | true, _ -> ()
            | _ -> seen[texts[id]] <- id

        match clash with
        | Some(a, b) ->
            Error(
                sprintf
                    "tokens %d and %d are both %s: vocab.json cannot give two ids one text"
                    a
                    b
                    (JsonSerializer.Serialize texts[a])
            )
        | None ->
            Ok
                { Vocab = Array.init size (fun id -> texts[id], id)
                  Merges = model.Merges |> Array.map (fun (a, b) -> texts[a], texts[b])
                  Added = [| for id in 0 .. ByteBpeModel.firstByteId model.SentinelCount - 1 -> id, texts[id] |] }

    let private json =
        JsonSerializerOptions(Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping)

    /// vocab.json and merges.txt in a directory.
    let write (directory: string) (files: Files) =
        let vocab = Text.StringBuilder("{")

        files.Vocab
        |> Array.iteri (fun i (text, id) ->
            if i > 0 then
                vocab.Append ", " |> ignore

            vocab.Append(JsonSerializer.Serialize(text, json)).Append(": ").Append(id)
            |> ignore)

        vocab.Append "}" |> ignore
        AtomicFile.writeAllText (Path.Combine(directory, "vocab.json")) (vocab.ToString())

        let merges = Text.StringBuilder("#version: 0.2\n")

        for a, b in files.Merges do
            merges.Append(a).Append(' ').Append(b).Append('\n') |> ignore

        AtomicFile.writeAllText (Path.Combine(directory, "merges.txt")) (merges.ToString())
