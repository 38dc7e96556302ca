module Masking.Tests.TokenizerTests

open System
open System.IO
open Xunit
open FsCheck
open FsCheck.FSharp
open FsCheck.Xunit
open Masking
open Masking.Tokenizers
open Masking.Tests.TestData

let private gpt2 = lazy (Gpt2Tokenizer.Embedded() :> ITokenizer)

let private wikiLines =
    lazy (File.ReadAllLines(fixture "wikitext2/wiki.valid.raw") |> Array.truncate 400)

let private smallBpe =
    lazy (ByteBpeTokenizer(ByteBpeTrainer.train (wikiLines.Value |> Seq.map (fun l -> l + "\n")) 1500 100 2))

type UnicodeText =
    static member Text() =
        let pieces =
            [ "the"
              " "
              "  "
              "\n"
              "é"
              "日本語"
              "🙂"
              "don't"
              "42"
              "-"
              "Zürich"
              "\t"
              "<mask>"
              "ﬁ"
              "a\u0301" ]

        Gen.elements pieces |> Gen.listOf |> Gen.map (String.concat "") |> Arb.fromGen

[<Property(Arbitrary = [| typeof<UnicodeText> |], MaxTest = 200)>]
let ``GPT-2 encode then decode gives the text back`` (text: string) =
    gpt2.Value.Decode (gpt2.Value.Encode text).Ids = text

[<Property(Arbitrary = [| typeof<UnicodeText> |], MaxTest = 200)>]
let ``learned BPE encode then decode gives the text back`` (text: string) =
    let t = smallBpe.Value :> ITokenizer
    t.Decode (t.Encode text).Ids = text

[<Fact>]
let ``GPT-2 round-trips WikiText exactly and matches the ids in gpt2_bpe/SOURCE.md`` () =
    let t = gpt2.Value

    for line in wikiLines.Value do
        Assert.Equal(line, t.Decode (t.Encode line).Ids)

    Assert.Equal<int[]>([| 796; 5199; 347; 2852; 353 |], (t.Encode " = Robert Boulter = ").Ids[..4])

// Hugging Face's GPT-2 and BART tokenizers run BPE inside each pre-token, never across two: "\n\n" before a word
// is two pre-tokens (`\s+(?!\S)` leaves the last space to the word), so it is 198 198 and not the merged 628.
[<Fact>]
let ``GPT-2 runs BPE within each pre-token as Hugging Face does`` () =
    let t = gpt2.Value
    Assert.Equal<int[]>([| 15496; 198; 198; 10603 |], (t.Encode "Hello\n\nWorld").Ids)
    Assert.Equal<int[]>([| 15496; 628 |], (t.Encode "Hello\n\n").Ids)

[<Property(Arbitrary = [| typeof<UnicodeText> |], MaxTest = 200)>]
let ``GPT-2 ids are the ids of the text's pre-tokens one after another`` (text: string) =
    let t = gpt2.Value

    let pieces =
        WordBoundaries.pretokens text
        |> Array.collect (fun p -> (t.Encode(text.Substring(p.Start, p.End - p.Start))).Ids)

    (t.Encode text).Ids = pieces

[<DataFact>]
let ``the embedded GPT-2 data and encoder.json plus vocab.bpe give the same ids`` () =
    let files =
        Gpt2Tokenizer.FromFiles(Path.Combine(dataRoot.Value, "gpt2_bpe"))
        |> Result.defaultWith failwith
        :> ITokenizer

    for line in wikiLines.Value |> Array.truncate 100 do
        Assert.Equal<int[]>((gpt2.Value.Encode line).Ids, (files.Encode line).Ids)

// The fixture keeps GPT-2's first 2,000 merges (tokens 0–2255 keep their GPT-2 ids): text still round-trips,
// in more and shorter pieces.
[<Fact>]
let ``a truncated encoder.json plus vocab.bpe loads and round-trips text`` () =
    let files =
        Gpt2Tokenizer.FromFiles(fixture "gpt2_bpe") |> Result.defaultWith failwith :> ITokenizer

    for line in wikiLines.Value |> Array.truncate 100 do
        let ids = (files.Encode line).Ids
        Assert.All(ids, fun id -> Assert.InRange(id, 0, 2256))
        Assert.Equal(line, files.Decode ids)

    Assert.Equal<int[]>((gpt2.Value.Encode " the").Ids, (files.Encode " the").Ids)

[<Fact>]
let ``the mask token renders as <mask> and specials sit after GPT-2's vocabulary`` () =
    let t = gpt2.Value
    Assert.Equal("<mask>", t.TokenText t.Specials.Mask)

    Assert.Equal(
        "a<mask> b<extra_id_3>",
        t.Decode(
            Array.concat
                [ (t.Encode "a").Ids
                  [| t.Specials.Mask |]
                  (t.Encode " b").Ids
                  [| t.Specials.Sentinels[3] |] ]
        )
    )

    Assert.Equal(50261, t.Specials.Mask)
    // A literal "<mask>" in text is ordinary text, so round trips stay exact.
    Assert.DoesNotContain(t.Specials.Mask, (t.Encode "<mask>").Ids)

[<Fact>]
let ``word starts follow GPT-2 pre-tokens`` () =
    let t = gpt2.Value
    let e = t.Encode "Unbelievably, tokenization works."
    let words = e.WordStarts |> Array.filter id |> Array.length
    // Pre-tokens: "Unbelievably" "," " tokenization" " works" "."
    Assert.Equal(5, words)
    Assert.True(e.Ids.Length > words)
    Assert.True(e.WordStarts[0])

[<Fact>]
let ``word starts from vocabulary conventions`` () =
    Assert.Equal<bool[]>(
        [| true; false; true |],
        WordBoundaries.fromContinuationPrefix "##" [| "play"; "##ing"; "ball" |]
    )

    Assert.Equal<bool[]>([| true; false; true |], WordBoundaries.fromWordStartMarker "▁" [| "play"; "ing"; "▁ball" |])

[<Fact>]
let ``BPE training is deterministic and saves and loads exactly`` () =
    let texts = wikiLines.Value |> Array.truncate 150 |> Array.map (fun l -> l + "\n")
    let a = ByteBpeTrainer.train texts 800 10 2
    let b = ByteBpeTrainer.train texts 800 10 2
    Assert.Equal<(int * int)[]>(a.Merges, b.Merges)
    Assert.Equal(800, ByteBpeModel.vocabSize a)

    let path =
        Path.Combine(Path.GetTempPath(), sprintf "masking-bpe-%d.json" (Random.Shared.Next()))

    ByteBpeModel.save path a
    let loaded = ByteBpeModel.load path |> Result.defaultWith failwith
    File.Delete path
    Assert.Equal<(int * int)[]>(a.Merges, loaded.Merges)

[<Fact>]
let ``learned BPE has the special tokens first and marks word starts`` () =
    let t = smallBpe.Value :> ITokenizer
    Assert.Equal("<s>", t.TokenText 0)
    Assert.Equal("<pad>", t.TokenText 1)
    Assert.Equal("</s>", t.TokenText 2)
    Assert.Equal("<unk>", t.TokenText 3)
    Assert.Equal("<mask>", t.TokenText 4)
    Assert.Equal("<extra_id_0>", t.TokenText 5)
    let text = "The station was reopened in 1996."
    let e = t.Encode text
    Assert.True(e.WordStarts[0])
    // Merges were learned: far fewer tokens than bytes.
    Assert.True(e.Ids.Length * 2 < text.Length, sprintf "%d tokens" e.Ids.Length)

[<Fact>]
let ``a malformed vocabulary file is an error naming the file`` () =
    let path =
        Path.Combine(Path.GetTempPath(), sprintf "masking-bad-%d.json" (Random.Shared.Next()))

    for content in [ "{ not json"; "{\"format\": \"masking-byte-bpe/1\"}"; "[]"; "" ] do
        File.WriteAllText(path, content)

        match ByteBpeModel.load path with
        | Ok _ -> failwithf "'%s' should not load" content
        | Error e -> Assert.StartsWith(path + ":", e)

    File.Delete path
