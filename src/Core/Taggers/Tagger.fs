namespace Masking.Taggers

open System
open System.Collections.Generic
open System.IO
open System.IO.Compression
open System.Text
open System.Text.Json
open Masking

type TaggerKind =
    | PosTagger
    | NerTagger

/// A trained greedy left-to-right tagger: an averaged perceptron whose features include the two previous
/// predicted tags. For NER it also keeps a lexicon of the entity types training words took.
type TaggerModel =
    {
        Kind: TaggerKind
        Tags: string[]
        Perceptron: AveragedPerceptron
        /// Lower-cased word → index of its most frequent entity type (NER only).
        Lexicon: Dictionary<string, int>
        /// Lower-cased word → gazetteer bits: 1 first name, 2 place, 4 nationality, 8 part of a longer place name.
        Gazetteer: Dictionary<string, int>
        /// Lower-cased word → its word-cluster id per granularity (coarse first), induced from unlabelled text.
        Clusters: Dictionary<string, int[]>
        /// Lower-cased word → how it is capitalised in mid-sentence in unlabelled text (CaseProfiles; NER only).
        CaseProfiles: Dictionary<string, int>
        /// NER's second pass: the same features plus the entity type the first pass gave each word elsewhere in
        /// the document (stacking; trained on cross-validated first-pass output).
        DocumentPass: AveragedPerceptron option
        /// What the model was trained on, with which options, and its dev score.
        Meta: Map<string, string>
    }

/// What a tagger may know beyond the sentence: the words its document uses in lower case (a capitalised
/// word that also appears in lower case is probably not a name).
type DocumentContext =
    {
        LowerCaseWords: HashSet<string>
        /// For the second pass: lower-cased word → the entity type (1–4) the first pass gave it most often in
        /// this document; null in the first pass.
        FirstPassTypes: Dictionary<string, int>
    }

module DocumentContext =
    let ofSentences (sentences: string[] seq) =
        let set = HashSet<string>()

        for s in sentences do
            for w in s do
                if w.Length > 0 && Char.IsLower w[0] then
                    set.Add w |> ignore

        { LowerCaseWords = set
          FirstPassTypes = null }

    /// The majority first-pass entity type of every capitalised word of the document.
    let withFirstPass (sentences: string[] list) (tags: string[] list) (context: DocumentContext) =
        let votes = Dictionary<string, int[]>()

        for words, ts in List.zip sentences tags do
            for w, t in Array.zip words ts do
                if t <> "O" && w.Length > 0 && Char.IsUpper w[0] then
                    let key = w.ToLowerInvariant()

                    if not (votes.ContainsKey key) then
                        votes[key] <- Array.zeroCreate 5

                    let k =
                        match t.Substring 2 with
                        | "PER" -> 1
                        | "ORG" -> 2
                        | "LOC" -> 3
                        | _ -> 4

                    votes[key][k] <- votes[key][k] + 1

        let types = Dictionary<string, int>()

        for KeyValue(w, v) in votes do
            types[w] <- [ 1..4 ] |> List.maxBy (fun k -> v[k], -k)

        { context with FirstPassTypes = types }

module Tagger =
    let private maxFeatures = 64

    let private lexiconTypes = [| "O"; "PER"; "ORG"; "LOC"; "MISC" |]

    /// A sentence's per-word values, computed once and padded with two "<s>" and two "</s>" words, so that
    /// every token's features (which look two words either way) reuse them.
    type SentenceView =
        {
            Padded: string[]
            Lower: string[]
            Shape: string[]
            Short: string[]
            Lexicon: int[]
            Gazetteer: int[]
            /// CaseProfiles class per padded position (NER only).
            Case: int[]
            Flags: int[]
            /// Cluster ids per granularity, per padded position (WordClusters.none for unknown words).
            Clusters: int[][]
            Headline: bool
        }

    let private lowerChars (w: string) =
        String.Create(
            w.Length,
            w,
            fun span source ->
                for i in 0 .. source.Length - 1 do
                    span[i] <- Char.ToLowerInvariant source[i]
        )

    let clusterGranularities = 3

    let view
        (kind: TaggerKind)
        (lexicon: Dictionary<string, int>)
        (gazetteer: Dictionary<string, int>)
        (clusters: Dictionary<string, int[]>)
        (caseProfiles: Dictionary<string, int>)
        (words: string[])
        =
        let padded = Array.concat [ [| "<s>"; "<s>" |]; words; [| "</s>"; "</s>" |] ]
        let lower = padded |> Array.map lowerChars

        let lookup (table: Dictionary<string, int>) missing (l: string) =
            match table.TryGetValue l with
            | true, v -> v
            | _ -> missing

        { Padded = padded
          Lower = lower
          Shape = padded |> Array.map Features.shape
          Short =
            (if kind = NerTagger then
                 padded |> Array.map Features.shortShape
             else
                 [||])
          Lexicon =
            (if kind = NerTagger then
                 lower |> Array.map (lookup lexicon -1)
             else
                 [||])
          Gazetteer =
            (if kind = NerTagger then
                 lower |> Array.map (lookup gazetteer 0)
             else
                 [||])
          Case =
            (if kind = NerTagger then
                 lower |> Array.map (CaseProfiles.lookup caseProfiles)
             else
                 [||])
          Flags = padded |> Array.map Features.wordFlags
          Clusters =
            (let ids = lower |> Array.map (WordClusters.idsOf clusters clusterGranularities)
             Array.init clusterGranularities (fun g -> ids |> Array.map (fun w -> w[g])))
          Headline = Features.isHeadline words }

    /// Hashed features of word i given the previous two predicted tags; returns how many were written.
    let features
        (kind: TaggerKind)
        (context: DocumentContext)
        (v: SentenceView)
        (i: int)
        (prev: int)
        (prev2: int)
        (out: uint64[])
        =
        let mutable n = 0

        let add (h: uint64) =
            out[n] <- h
            n <- n + 1

        let at = i + 2
        let w = v.Padded[at]
        let lower = v.Lower[at]
        let pLower, nLower = v.Lower[at - 1], v.Lower[at + 1]
        add (Features.hashString 0 "bias")
        add (Features.hashString 1 lower)
        add (Features.hashInts 19 prev 0)
        add (Features.hashInts 20 prev prev2)
        add (Features.combine (Features.hashInts 28 prev 0) (Features.hashString 28 lower))
        add (Features.hashString 13 pLower)
        add (Features.hashString 14 nLower)
        add (Features.hashString 15 v.Lower[at - 2])
        add (Features.hashString 16 v.Lower[at + 2])
        add (Features.hashString 3 v.Shape[at])

        for k in 1..4 do
            if lower.Length >= k then
                add (Features.hashSpan (8 + k) lower (lower.Length - k) k)

        for k in 1..3 do
            if lower.Length >= k then
                add (Features.hashSpan (4 + k) lower 0 k)

        let flags = v.Flags[at] ||| (if i = 0 then 16 else 0)

        add (Features.hashInts 22 flags 0)

        if pLower.Length >= 3 then
            add (Features.hashSpan 30 pLower (pLower.Length - 3) 3)

        if nLower.Length >= 3 then
            add (Features.hashSpan 31 nLower (nLower.Length - 3) 3)

        let coarse, middle, fine = v.Clusters[0], v.Clusters[1], v.Clusters[2]
        add (Features.hashInts 50 coarse[at] 0)
        add (Features.hashInts 51 middle[at] 0)
        add (Features.hashInts 52 fine[at] 0)
        add (Features.hashInts 53 middle[at - 1] middle[at])
        add (Features.hashInts 54 middle[at] middle[at + 1])
        add (Features.hashInts 55 fine[at - 1] 0)
        add (Features.hashInts 56 fine[at + 1] 0)
        add (Features.hashInts 57 middle[at] prev)

        match kind with
        | PosTagger ->
            add (Features.hashString 2 w)

            let suffix3 =
                if lower.Length >= 3 then
                    Features.hashSpan 41 lower (lower.Length - 3) 3
                else
                    Features.hashString 41 lower

            add (Features.combine suffix3 (Features.hashInts 41 prev 0))
            add (Features.combine (Features.hashString 42 lower) (Features.hashString 42 nLower))
            add (Features.combine (Features.hashString 43 pLower) (Features.hashString 43 lower))
            add (Features.hashString 44 v.Shape[at + 1])
            add (Features.combine (Features.hashInts 45 prev 0) (Features.hashString 45 nLower))
        | NerTagger ->
            add (Features.hashString 2 w)
            let short = v.Short[at]
            let lex, lexP, lexN = v.Lexicon[at], v.Lexicon[at - 1], v.Lexicon[at + 1]
            add (Features.hashString 4 short)
            add (Features.hashString 17 v.Short[at - 1])
            add (Features.hashString 18 v.Short[at + 1])
            add (Features.combine (Features.hashInts 21 prev 0) (Features.hashString 21 short))
            add (Features.combine (Features.hashString 26 lower) (Features.hashString 26 nLower))
            add (Features.combine (Features.hashString 27 pLower) (Features.hashString 27 lower))
            add (Features.hashInts 23 lex 0)
            add (Features.hashInts 24 lexP lex)
            add (Features.hashInts 25 lexN lex)
            add (Features.combine (Features.hashInts 32 lex flags) (Features.hashInts 32 prev 0))

            add (
                Features.combine
                    (Features.hashInts 29 (if v.Headline then 1 else 0) flags)
                    (Features.hashString 29 short)
            )

            let seenLower = context.LowerCaseWords.Contains lower
            add (Features.hashInts 33 (if seenLower then 1 else 0) flags)

            add (
                Features.combine (Features.hashInts 34 (if seenLower then 1 else 0) lex) (Features.hashString 34 short)
            )

            add (Features.hashStrings 35 v.Shape[at - 1] v.Shape[at] v.Shape[at + 1])
            let g = v.Gazetteer[at]

            if not (isNull context.FirstPassTypes) then
                let typeOf (l: string) =
                    match context.FirstPassTypes.TryGetValue l with
                    | true, t -> t
                    | _ -> 0

                let t = typeOf lower
                add (Features.hashInts 39 t flags)
                add (Features.hashInts 40 t (typeOf nLower))
                add (Features.combine (Features.hashInts 46 t prev) (Features.hashString 46 short))

            let case = v.Case[at]
            add (Features.hashInts 60 case flags)
            add (Features.hashInts 61 case v.Case[at + 1])
            add (Features.combine (Features.hashInts 62 case v.Case[at - 1]) (Features.hashInts 62 prev 0))
            add (Features.hashInts 36 g flags)
            add (Features.hashInts 37 g v.Gazetteer[at + 1])
            add (Features.hashInts 38 g v.Gazetteer[at - 1])

        n

    /// IOB2: I-X may only follow B-X or I-X; otherwise it is read as B-X.
    let private repair (tags: string[]) (prev: int) (best: int) (index: Dictionary<string, int>) =
        let t = tags[best]

        if t.StartsWith "I-" then
            let entity = t.Substring 2
            let before = if prev >= 0 && prev < tags.Length then tags[prev] else "O"

            if before = "B-" + entity || before = "I-" + entity then
                best
            else
                match index.TryGetValue("B-" + entity) with
                | true, b -> b
                | _ -> best
        else
            best

    let private indexes =
        System.Runtime.CompilerServices.ConditionalWeakTable<string[], Dictionary<string, int>>()

    /// Tag → index, built once per model.
    let private tagIndex (model: TaggerModel) =
        indexes.GetValue(
            model.Tags,
            fun tags ->
                let d = Dictionary<string, int>()
                tags |> Array.iteri (fun i t -> d[t] <- i)
                d
        )

    let private noContext =
        { LowerCaseWords = HashSet<string>()
          FirstPassTypes = null }

    /// Tags one sentence with a given perceptron (first or second pass).
    let private tagPass
        (model: TaggerModel)
        (perceptron: AveragedPerceptron)
        (index: Dictionary<string, int>)
        (context: DocumentContext)
        (v: SentenceView)
        : string[] =
        let words = v.Padded.Length - 4
        let buffer = Array.zeroCreate<uint64> maxFeatures
        let buckets = Array.zeroCreate<int> maxFeatures
        let scores = Array.zeroCreate<float32> model.Tags.Length
        let result = Array.zeroCreate<string> words
        let mutable prev, prev2 = -1, -1

        for i in 0 .. words - 1 do
            let n = features model.Kind context v i prev prev2 buffer

            for k in 0 .. n - 1 do
                buckets[k] <- perceptron.Bucket buffer[k]

            perceptron.Score(ReadOnlySpan(buckets, 0, n), scores)
            let mutable best = 0

            for c in 1 .. scores.Length - 1 do
                if scores[c] > scores[best] then
                    best <- c

            let best =
                if model.Kind = NerTagger then
                    repair model.Tags prev best index
                else
                    best

            result[i] <- model.Tags[best]
            prev2 <- prev
            prev <- best

        result

    /// Tags the sentences of one document together: document-level features see all of them, and NER's
    /// second pass sees the first pass's types.
    let tagDocument (model: TaggerModel) (sentences: string[] list) =
        let index = tagIndex model
        // Only NER's features read the document.
        let context =
            if model.Kind = NerTagger then
                DocumentContext.ofSentences sentences
            else
                noContext

        let views =
            sentences
            |> List.map (view model.Kind model.Lexicon model.Gazetteer model.Clusters model.CaseProfiles)

        let first = views |> List.map (tagPass model model.Perceptron index context)

        match model.DocumentPass with
        | None -> first
        | Some second ->
            let context = DocumentContext.withFirstPass sentences first context
            views |> List.map (tagPass model second index context)

    let tag (model: TaggerModel) (words: string[]) = (tagDocument model [ words ]).Head

    /// The lexicon for NER: each lower-cased training word's most frequent entity type, when it is inside an
    /// entity at least half of the times it occurs.
    let buildLexicon (sentences: TaggedSentence list) =
        let counts = Dictionary<string, int[]>()

        for s in sentences do
            for w, t in Array.zip s.Words s.Tags do
                let key = w.ToLowerInvariant()

                if not (counts.ContainsKey key) then
                    counts[key] <- Array.zeroCreate lexiconTypes.Length

                let entity = if t = "O" then "O" else t.Substring 2
                let k = max 0 (Array.IndexOf(lexiconTypes, entity))
                counts[key][k] <- counts[key][k] + 1

        let lexicon = Dictionary<string, int>()

        for KeyValue(word, c) in counts do
            let total = Array.sum c
            let best = [ 1 .. c.Length - 1 ] |> List.maxBy (fun k -> c[k])

            if c[best] * 2 >= total && c[best] > 0 then
                lexicon[word] <- best

        lexicon

    /// One perceptron trained with `iterations` passes over the sentences in a seeded order; greedy decoding
    /// with predicted history, as at tagging time.
    let private trainPass
        kind
        (tags: string[])
        (index: Dictionary<string, int>)
        (data: TaggedSentence[])
        (lexicons: int -> Dictionary<string, int>)
        gazetteer
        clusters
        caseProfiles
        (contextOf: int -> DocumentContext)
        iterations
        (seed: uint64)
        bucketBits
        (progress: int -> float -> unit)
        =
        let perceptron = AveragedPerceptron(tags.Length, bucketBits)
        let buffer = Array.zeroCreate<uint64> maxFeatures
        let buckets = Array.zeroCreate<int> maxFeatures
        let scores = Array.zeroCreate<float32> tags.Length

        for iteration in 1..iterations do
            let rng = Rng(Seeds.derive seed iteration 0L)
            let order = Array.init data.Length id
            rng.Shuffle order

            let mutable correct, total = 0, 0

            for si in order do
                let s = data[si]
                let context = contextOf si
                let v = view kind (lexicons si) gazetteer clusters caseProfiles s.Words
                let mutable prev, prev2 = -1, -1

                for i in 0 .. s.Words.Length - 1 do
                    let n = features kind context v i prev prev2 buffer

                    for k in 0 .. n - 1 do
                        buckets[k] <- perceptron.Bucket buffer[k]

                    let span = ReadOnlySpan(buckets, 0, n)
                    perceptron.Score(span, scores)
                    let mutable guess = 0

                    for c in 1 .. scores.Length - 1 do
                        if scores[c] > scores[guess] then
                            guess <- c

                    let truth = index[s.Tags[i]]
                    perceptron.Update(span, truth, guess)

                    if guess = truth then
                        correct <- correct + 1

                    total <- total + 1
                    prev2 <- prev
                    prev <- guess

            progress iteration (float correct / float (max 1 total))

        perceptron.Average()
        perceptron

    /// Trains a tagger. NER adds a second pass trained on 5-fold cross-validated first-pass output, and
    /// its lexicon features in training come from the other folds, as unseen text will see them.
    let train
        (kind: TaggerKind)
        (sentences: TaggedSentence list)
        (gazetteer: Dictionary<string, int>)
        (clusters: Dictionary<string, int[]>)
        (caseProfiles: Dictionary<string, int>)
        (iterations: int)
        (ensemble: int)
        (seed: uint64)
        (bucketBits: int)
        (progress: string -> int -> float -> unit)
        : TaggerModel =
        let tags =
            sentences
            |> Seq.collect (fun s -> s.Tags)
            |> Seq.distinct
            |> Seq.sort
            |> Array.ofSeq

        let index = Dictionary<string, int>()
        tags |> Array.iteri (fun i t -> index[t] <- i)
        let data = Array.ofList sentences
        let folds = 5

        let foldOf (s: TaggedSentence) (i: int) =
            (if s.Document >= 0 then s.Document else i) % folds

        let foldIndex = data |> Array.mapi (fun i s -> foldOf s i)

        let lexicon =
            if kind = NerTagger then
                buildLexicon sentences
            else
                Dictionary<string, int>()

        let foldLexicons =
            if kind = NerTagger then
                Array.init folds (fun f ->
                    data
                    |> Seq.indexed
                    |> Seq.filter (fun (i, _) -> foldIndex[i] <> f)
                    |> Seq.map snd
                    |> List.ofSeq
                    |> buildLexicon)
            else
                Array.create folds lexicon

        // Sentences without a document are documents of their own.
        let docOf (i: int) (s: TaggedSentence) =
            if s.Document >= 0 then s.Document else -1 - i

        let documents = data |> Array.indexed |> Array.groupBy (fun (i, s) -> docOf i s)

        let contexts =
            documents
            |> Array.map (fun (d, ss) -> d, DocumentContext.ofSentences (ss |> Array.map (fun (_, s) -> s.Words)))
            |> dict

        let contextOf = data |> Array.mapi (fun i s -> contexts[docOf i s])
        let foldLexiconOf i = foldLexicons[foldIndex[i]]

        // Both passes train on all sentences; they differ in the document context their features see. With
        // an ensemble, perceptrons trained on different sentence orders are averaged into one weight table:
        // a linear model still, so tagging costs the same.
        let trainOnAll (contextOfSentence: int -> DocumentContext) (label: string) =
            let trainMember k =
                trainPass
                    kind
                    tags
                    index
                    data
                    foldLexiconOf
                    gazetteer
                    clusters
                    caseProfiles
                    contextOfSentence
                    iterations
                    (if k = 0 then seed else Seeds.derive seed 1000 (int64 k))
                    bucketBits
                    (progress (
                        if ensemble = 1 then
                            label
                        else
                            sprintf "%s member %d/%d" label (k + 1) ensemble
                    ))

            if ensemble = 1 then
                trainMember 0
            else
                // Summed as they are trained: one member's table in memory besides the sum, not all of them.
                let weights = (trainMember 0).Weights

                for k in 1 .. ensemble - 1 do
                    let w = (trainMember k).Weights

                    for i in 0 .. weights.Length - 1 do
                        weights[i] <- weights[i] + w[i]

                let scale = 1.0f / float32 ensemble

                for i in 0 .. weights.Length - 1 do
                    weights[i] <- weights[i] * scale

                AveragedPerceptron.FromWeights(tags.Length, bucketBits, weights)

        let first = trainOnAll (fun i -> contextOf[i]) "pass 1"

        let model =
            { Kind = kind
              Tags = tags
              Perceptron = first
              Lexicon = lexicon
              Gazetteer = gazetteer
              Clusters = clusters
              CaseProfiles = caseProfiles
              DocumentPass = None
              Meta = Map.empty }

        if kind = PosTagger then
            model
        else
            // Cross-validated first-pass tags for every training document.
            let predicted = Array.zeroCreate<string[]> data.Length

            for f in 0 .. folds - 1 do
                let insideIndex =
                    [| for i in 0 .. data.Length - 1 do
                           if foldIndex[i] <> f then
                               yield i |]

                let inside = insideIndex |> Array.map (fun i -> data[i])

                let heldLexicon = inside |> List.ofArray |> buildLexicon

                let foldModel =
                    { model with
                        Perceptron =
                            trainPass
                                kind
                                tags
                                index
                                inside
                                (fun _ -> heldLexicon)
                                gazetteer
                                clusters
                                caseProfiles
                                (fun j -> contextOf[insideIndex[j]])
                                iterations
                                seed
                                bucketBits
                                (fun _ _ -> ())
                        Lexicon = heldLexicon }

                for _, members in documents do
                    let members = members |> Array.filter (fun (i, _) -> foldIndex[i] = f)

                    if members.Length > 0 then
                        let words = members |> Array.map (fun (_, s) -> s.Words) |> List.ofArray
                        let context = DocumentContext.ofSentences words
                        let index' = tagIndex foldModel

                        members
                        |> Array.iter (fun (i, s) ->
                            predicted[i] <-
                                tagPass
                                    foldModel
                                    foldModel.Perceptron
                                    index'
                                    context
                                    (view kind heldLexicon gazetteer clusters caseProfiles s.Words))

                progress (sprintf "cross-validation fold %d" (f + 1)) iterations 0.0

            let secondContexts =
                documents
                |> Array.map (fun (d, ss) ->
                    let words = ss |> Array.map (fun (_, s) -> s.Words) |> List.ofArray
                    let tags' = ss |> Array.map (fun (i, _) -> predicted[i]) |> List.ofArray
                    d, DocumentContext.withFirstPass words tags' contexts[d])
                |> dict

            let second = trainOnAll (fun i -> secondContexts[docOf i data[i]]) "pass 2"

            { model with
                DocumentPass = Some second }

    // ---- files ------------------------------------------------------------------------------------------

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
        let tmp = path + ".tmp"

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

        File.Move(tmp, path, true)

    let load (path: string) : Result<TaggerModel, string> =
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

                        for c in 0 .. tags.Length - 1 do
                            weights[row * tags.Length + c] <- float32 (r.ReadInt16()) * scale

                    AveragedPerceptron.FromWeights(tags.Length, bits, weights)

                let first = readPass ()
                let second = if passes > 1 then Some(readPass ()) else None

                Ok
                    { Kind =
                        (if root.GetProperty("kind").GetString() = "pos" then
                             PosTagger
                         else
                             NerTagger)
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

/// Gazetteers for NER from NLTK's data packages (first names, countries, cities, states, nationalities).
module Gazetteer =
    let private add (g: Dictionary<string, int>) (entry: string) (bit: int) =
        let words = entry.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)

        for w in words do
            let key = w.ToLowerInvariant()
            let extra = if words.Length > 1 then 8 else bit

            g[key] <-
                (match g.TryGetValue key with
                 | true, b -> b
                 | _ -> 0)
                ||| extra

    /// Reads nltk_data/gazetteers.zip and names.zip from the data root.
    let fromNltk (nltkDirectory: string) : Result<Dictionary<string, int>, string> =
        try
            let g = Dictionary<string, int>()

            let entries (zip: string) =
                use archive = ZipFile.OpenRead(Path.Combine(nltkDirectory, zip))

                [ for e in archive.Entries do
                      if e.Name.EndsWith ".txt" && not (e.Name.StartsWith "LICENSE") then
                          use reader = new StreamReader(e.Open())
                          yield e.Name, reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries) ]

            for name, lines in entries "names.zip" do
                for l in lines do
                    if not (l.StartsWith "#") then
                        add g l 1

            for name, lines in entries "gazetteers.zip" do
                let bit = if name = "nationalities.txt" then 4 else 2

                for l in lines do
                    add g l bit

            Ok g
        with
        | :? IOException as e -> Error(sprintf "%s:0: cannot read NLTK gazetteers (%s)" nltkDirectory e.Message)
        | :? InvalidDataException as e -> Error(sprintf "%s:0: expected zip files (%s)" nltkDirectory e.Message)
