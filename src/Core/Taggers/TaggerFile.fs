namespace Masking.Taggers

open System
open System.Collections.Generic
open System.IO
open System.IO.Compression
open System.Text
open System.Text.Json
open Masking

/// The tagger's model file.
module TaggerFile =
    /// MASKTAG3 added the case profiles; MASKTAG2 files (no profiles) still load.
    let private magic = "MASKTAG3"

    /// A gzip file: a JSON header (kind, tags, options, training data, scores), the lexicon, and the
    /// non-zero weight rows quantised to 16 bits. Written to a temporary name and renamed.
    let save (path: string) (model: TaggerModel) =
        let classes = model.Tags.Length
        let passes = model.Perceptron :: Option.toList model.DocumentPass

        let maxAbs =
            passes
            |> List.map (fun p -> p.Weights |> Array.fold (fun m x -> max m (abs x)) 1e-9f)
            |> List.max

        let scale = maxAbs / 32767.0f
        let tmp = AtomicFile.tempFor path

        do
            use file = File.Create tmp
            use gz = new GZipStream(file, CompressionLevel.SmallestSize)
            use out = new BinaryWriter(gz, Encoding.UTF8)
            out.Write magic

            let header =
                JsonSerializer.Serialize(
                    {| kind = (if model.Kind = PosTagger then "pos" else "ner")
                       tags = model.Tags
                       bucketBits = model.Perceptron.BucketBits
                       scale = scale
                       passes = passes.Length
                       meta = model.Meta |}
                )

            out.Write header

            for table in [ model.Lexicon; model.Gazetteer; model.CaseProfiles ] do
                out.Write table.Count

                for KeyValue(word, t) in table |> Seq.sortBy (fun kv -> kv.Key) do
                    out.Write word
                    out.Write(byte t)

            out.Write model.Clusters.Count

            for KeyValue(word, ids) in model.Clusters |> Seq.sortBy (fun kv -> kv.Key) do
                out.Write word
                out.Write(byte ids.Length)

                for id in ids do
                    out.Write(int16 id)

            // Rows whose weights all round to zero are dropped; the rest are 16-bit integers times `scale`.
            for p in passes do
                let w = p.Weights
                let rows = w.Length / classes

                let kept =
                    [| for r in 0 .. rows - 1 do
                           if
                               Seq.exists (fun c -> abs (w[r * classes + c] / scale) >= 0.5f) (seq { 0 .. classes - 1 })
                           then
                               yield r |]

                out.Write kept.Length

                for r in kept do
                    out.Write r

                    for c in 0 .. classes - 1 do
                        out.Write(int16 (Math.Round(float (w[r * classes + c] / scale))))

        AtomicFile.commit tmp path

    /// A value no tagger this program wrote has (the gzip stream decompressed, but to something else).
    exception private Damaged of string

    let load (path: string) : Result<TaggerModel, string> =
        let check condition what =
            if not condition then
                raise (Damaged what)

        try
            use file = File.OpenRead path
            use gz = new GZipStream(file, CompressionMode.Decompress)
            use r = new BinaryReader(gz, Encoding.UTF8)

            let version =
                match r.ReadString() with
                | "MASKTAG3" -> 3
                | "MASKTAG2" -> 2
                | _ -> 0

            if version = 0 then
                Error(
                    sprintf
                        "%s:0: expected a Masking tagger model (MASKTAG2 or 3; retrain older ones with `masking tag train`)"
                        path
                )
            else
                use doc = JsonDocument.Parse(r.ReadString())
                let root = doc.RootElement
                let tags = [| for t in root.GetProperty("tags").EnumerateArray() -> t.GetString() |]
                let bits = root.GetProperty("bucketBits").GetInt32()
                check (tags.Length > 0 && tags.Length <= 1000) "its tag set"
                check (bits >= 10 && bits <= 24) "its feature table's size"
                let kind = root.GetProperty("kind").GetString()
                check (kind = "pos" || kind = "ner") "its kind (pos or ner)"
                let scale = root.GetProperty("scale").GetSingle()
                let passes = root.GetProperty("passes").GetInt32()

                let meta =
                    [ for p in root.GetProperty("meta").EnumerateObject() -> p.Name, p.Value.GetString() ]
                    |> Map.ofList

                let readTable () =
                    let table = Dictionary<string, int>()

                    for _ in 1 .. r.ReadInt32() do
                        let word = r.ReadString()
                        table[word] <- int (r.ReadByte())

                    table

                let lexicon = readTable ()
                let gazetteer = readTable ()

                let caseProfiles =
                    if version >= 3 then
                        readTable ()
                    else
                        Dictionary<string, int>()

                let clusters = Dictionary<string, int[]>()

                for _ in 1 .. r.ReadInt32() do
                    let word = r.ReadString()
                    clusters[word] <- Array.init (int (r.ReadByte())) (fun _ -> int (r.ReadInt16()))

                let readPass () =
                    let weights = Array.zeroCreate<float32> ((1 <<< bits) * tags.Length)

                    for _ in 1 .. r.ReadInt32() do
                        let row = r.ReadInt32()
                        check (row >= 0 && row < (1 <<< bits)) "a weight row"

                        for c in 0 .. tags.Length - 1 do
                            weights[row * tags.Length + c] <- float32 (r.ReadInt16()) * scale

                    AveragedPerceptron.FromWeights(tags.Length, bits, weights)

                let first = readPass ()
                let second = if passes > 1 then Some(readPass ()) else None

                Ok
                    { Kind = (if kind = "pos" then PosTagger else NerTagger)
                      Tags = tags
                      Perceptron = first
                      Lexicon = lexicon
                      Gazetteer = gazetteer
                      Clusters = clusters
                      CaseProfiles = caseProfiles
                      DocumentPass = second
                      Meta = meta }
        with
        | :? FileNotFoundException -> Error(sprintf "%s:0: expected a tagger model file" path)
        | :? InvalidDataException as e -> Error(sprintf "%s:0: expected a gzip tagger model (%s)" path e.Message)
        | :? EndOfStreamException -> Error(sprintf "%s:0: the tagger model is truncated" path)
        | :? IOException as e -> Error(sprintf "%s:0: cannot read the tagger model (%s)" path e.Message)
        | :? JsonException as e ->
            Error(sprintf "%s:0: the tagger model's header is not valid JSON (%s)" path e.Message)
        | :? KeyNotFoundException -> Error(sprintf "%s:0: the tagger model's header lacks a field" path)
        | Damaged what -> Error(sprintf "%s:0: the tagger model is damaged (%s)" path what)
        // A header field of the wrong JSON kind.
        | :? InvalidOperationException
        | :? FormatException -> Error(sprintf "%s:0: the tagger model's header has a field of the wrong kind" path)
