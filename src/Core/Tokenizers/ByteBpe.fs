namespace Masking.Tokenizers

open System
open System.Collections.Generic
open System.IO
open System.Text
open System.Text.Json
open Masking

/// A byte-level BPE vocabulary learned from a corpus, for small models. Ids: the five special tokens
/// `<s> <pad> </s> <unk> <mask>`, then the T5 sentinels, then the 256 bytes, then one id per merge.
type ByteBpeModel =
    {
        /// Number of `<extra_id_k>` sentinels.
        SentinelCount: int
        /// Merges in rank order, as pairs of token ids.
        Merges: (int * int)[]
    }

module ByteBpeModel =
    let specialNames = [| "<s>"; "<pad>"; "</s>"; "<unk>"; "<mask>" |]
    let firstByteId sentinelCount = specialNames.Length + sentinelCount

    let vocabSize model =
        firstByteId model.SentinelCount + 256 + model.Merges.Length

    /// The byte string of every token id (specials and sentinels get empty arrays).
    let tokenBytes (model: ByteBpeModel) : byte[][] =
        let first = firstByteId model.SentinelCount
        let table = Array.create (vocabSize model) [||]

        for b in 0..255 do
            table[first + b] <- [| byte b |]

        model.Merges
        |> Array.iteri (fun i (a, b) -> table[first + 256 + i] <- Array.append table[a] table[b])

        table

    let specialName (model: ByteBpeModel) (id: int) =
        if id < specialNames.Length then
            Some specialNames[id]
        elif id < firstByteId model.SentinelCount then
            Some(sprintf "<extra_id_%d>" (id - specialNames.Length))
        else
            None

    let save (path: string) (model: ByteBpeModel) =
        let doc =
            {| format = "masking-byte-bpe/1"
               specials = specialNames
               sentinels = model.SentinelCount
               merges = model.Merges |> Array.map (fun (a, b) -> [| a; b |]) |}

        AtomicFile.writeAllText path (JsonSerializer.Serialize doc)

    let load (path: string) : Result<ByteBpeModel, string> =
        try
            use doc = JsonDocument.Parse(File.ReadAllText path)
            let root = doc.RootElement
            let mutable format = Unchecked.defaultof<JsonElement>

            if
                not (root.TryGetProperty("format", &format))
                || format.GetString() <> "masking-byte-bpe/1"
            then
                Error(sprintf "%s:1: expected a masking-byte-bpe/1 vocabulary (a \"format\" field)" path)
            else
                let sentinels = root.GetProperty("sentinels").GetInt32()

                let merges =
                    [| for m in root.GetProperty("merges").EnumerateArray() -> m[0].GetInt32(), m[1].GetInt32() |]

                let first = firstByteId sentinels

                let bad =
                    merges
                    |> Array.tryFindIndex (fun (a, b) ->
                        a < first
                        || b < first
                        || a >= first + 256 + merges.Length
                        || b >= first + 256 + merges.Length)

                match bad with
                | Some i -> Error(sprintf "%s:1: merge %d refers to an id outside the vocabulary" path i)
                | None ->
                    Ok
                        { SentinelCount = sentinels
                          Merges = merges }
        with
        | :? JsonException as e ->
            Error(
                sprintf
                    "%s:%d: expected JSON (%s)"
                    path
                    (int (defaultArg (Option.ofNullable e.LineNumber) 0L) + 1)
                    e.Message
            )
        | :? KeyNotFoundException -> Error(sprintf "%s:1: expected fields \"sentinels\" and \"merges\"" path)
        | :? InvalidOperationException as e ->
            Error(sprintf "%s:1: expected integers in \"sentinels\" and \"merges\" (%s)" path e.Message)
        | :? IOException as e -> Error(sprintf "%s:0: cannot read the file (%s)" path e.Message)

/// Our own deterministic BPE trainer: the same corpus and settings always give the same merges, with ties
/// broken by the smaller pair of ids.
module ByteBpeTrainer =
    let private pairKey (a: int) (b: int) = (int64 a <<< 32) ||| int64 (uint32 b)
    let private pairOf (k: int64) = int (k >>> 32), int (k &&& 0xFFFFFFFFL)

    /// Learns merges until the vocabulary reaches vocabSize (or no pair occurs at least minFrequency times).
    let train (texts: string seq) (vocabSize: int) (sentinelCount: int) (minFrequency: int) : ByteBpeModel =
        let first = ByteBpeModel.firstByteId sentinelCount
        let wordCounts = Dictionary<string, int64>(StringComparer.Ordinal)

        for text in texts do
            for p in WordBoundaries.pretokens text do
                let w = text.Substring(p.Start, p.Length)
                let mutable c = 0L
                wordCounts[w] <- (if wordCounts.TryGetValue(w, &c) then c else 0L) + 1L

        // Sort words so that the process never depends on dictionary order.
        let words =
            wordCounts.Keys
            |> Seq.sortWith (fun a b -> String.CompareOrdinal(a, b))
            |> Seq.toArray

        let counts = words |> Array.map (fun w -> wordCounts[w])

        let symbols =
            words
            |> Array.map (fun w -> Encoding.UTF8.GetBytes w |> Array.map (fun b -> first + int b) |> ResizeArray)

        let pairCounts = Dictionary<int64, int64>()
        let where = Dictionary<int64, HashSet<int>>()

        let add (key: int64) (wordIndex: int) (delta: int64) =
            let mutable c = 0L
            pairCounts[key] <- (if pairCounts.TryGetValue(key, &c) then c else 0L) + delta

            if delta > 0L then
                let mutable set = null

                if not (where.TryGetValue(key, &set)) then
                    set <- HashSet<int>()
                    where[key] <- set

                set.Add wordIndex |> ignore

        for wi in 0 .. symbols.Length - 1 do
            let s = symbols[wi]

            for j in 0 .. s.Count - 2 do
                add (pairKey s[j] s[j + 1]) wi counts[wi]

        // Max-heap on (count desc, key asc) with lazy invalidation.
        let heap = PriorityQueue<int64, struct (int64 * int64)>()

        let push (key: int64) =
            heap.Enqueue(key, struct (-pairCounts[key], key))

        for k in pairCounts.Keys do
            push k

        let merges = ResizeArray<int * int>()
        let target = max 0 (vocabSize - first - 256)
        let mutable fin = false

        while not fin && merges.Count < target && heap.Count > 0 do
            let mutable key = 0L
            let mutable pr = struct (0L, 0L)

            if heap.TryDequeue(&key, &pr) then
                let struct (negCount, _) = pr
                let current = pairCounts.GetValueOrDefault key

                if current <> -negCount then
                    () // stale entry
                elif current < int64 minFrequency then
                    fin <- true
                else
                    let a, b = pairOf key
                    let newId = first + 256 + merges.Count
                    merges.Add((a, b))
                    let touched = HashSet<int64>()

                    for wi in (where[key] |> Seq.sort |> Seq.toArray) do
                        let s = symbols[wi]
                        let c = counts[wi]
                        let mutable j = 0

                        while j < s.Count - 1 do
                            if s[j] = a && s[j + 1] = b then
                                if j > 0 then
                                    let k = pairKey s[j - 1] a
                                    add k wi -c
                                    touched.Add k |> ignore

                                if j + 2 < s.Count then
                                    let k = pairKey b s[j + 2]
                                    add k wi -c
                                    touched.Add k |> ignore

                                s[j] <- newId
                                s.RemoveAt(j + 1)

                                if j > 0 then
                                    let k = pairKey s[j - 1] newId
                                    add k wi c
                                    touched.Add k |> ignore

                                if j + 1 < s.Count then
                                    let k = pairKey newId s[j + 1]
                                    add k wi c
                                    touched.Add k |> ignore

                            j <- j + 1

                    pairCounts[key] <- 0L

                    for k in touched |> Seq.sort do
                        if pairCounts[k] > 0L then
                            push k

        { SentinelCount = sentinelCount
          Merges = merges.ToArray() }

/// Encoding and decoding with a learned byte-level BPE vocabulary.
[<Sealed>]
type ByteBpeTokenizer(model: ByteBpeModel) =
    let first = ByteBpeModel.firstByteId model.SentinelCount
    let vocab = ByteBpeModel.vocabSize model
    let bytesOf = ByteBpeModel.tokenBytes model
    let ranks = Dictionary<int64, int>()

    do
        model.Merges
        |> Array.iteri (fun i (a, b) -> ranks[(int64 a <<< 32) ||| int64 (uint32 b)] <- i)

    let specials =
        let n = ByteBpeModel.specialNames.Length
        SpecialTokens.create 0 1 2 3 4 [| n .. n + model.SentinelCount - 1 |] [] vocab

    let cache =
        System.Collections.Concurrent.ConcurrentDictionary<string, int[]>(StringComparer.Ordinal)

    let encodeWord (word: string) =
        let s =
            Encoding.UTF8.GetBytes word |> Array.map (fun b -> first + int b) |> ResizeArray

        let mutable fin = false

        while not fin && s.Count > 1 do
            let mutable best = Int32.MaxValue
            let mutable at = -1

            for j in 0 .. s.Count - 2 do
                let mutable r = 0

                if
                    ranks.TryGetValue((int64 s[j] <<< 32) ||| int64 (uint32 s[j + 1]), &r)
                    && r < best
                then
                    best <- r
                    at <- j

            if at < 0 then
                fin <- true
            else
                s[at] <- first + 256 + best
                s.RemoveAt(at + 1)

        s.ToArray()

    member _.Model = model

    member this.EncodeWord(word: string) =
        cache.GetOrAdd(word, Func<string, int[]>(encodeWord))

    interface ITokenizer with
        member _.Name = sprintf "byte-bpe(%d)" vocab
        member _.Specials = specials

        member this.Encode(text: string) =
            let ids = ResizeArray<int>()
            let offsets = ResizeArray<Span>()
            let starts = ResizeArray<bool>()

            for p in WordBoundaries.pretokens text do
                let word = text.Substring(p.Start, p.Length)
                let pieces = this.EncodeWord word
                // Map each piece's bytes back to character offsets within the word.
                let charOfByte = Array.zeroCreate (Encoding.UTF8.GetByteCount word + 1)
                let mutable byteIndex = 0
                let mutable ci = 0

                while ci < word.Length do
                    let width = if Char.IsSurrogatePair(word, ci) then 2 else 1
                    let nBytes = Encoding.UTF8.GetByteCount(word.AsSpan(ci, width))

                    for k in 0 .. nBytes - 1 do
                        charOfByte[byteIndex + k] <- ci

                    byteIndex <- byteIndex + nBytes
                    ci <- ci + width

                charOfByte[byteIndex] <- word.Length
                let mutable b = 0

                pieces
                |> Array.iteri (fun k id ->
                    let len = bytesOf[id].Length
                    let startChar = charOfByte[b]

                    let endChar =
                        if b + len >= byteIndex then
                            word.Length
                        else
                            max charOfByte[b + len] startChar

                    ids.Add id

                    offsets.Add
                        { Start = p.Start + startChar
                          End = p.Start + endChar }

                    starts.Add((k = 0))
                    b <- b + len)

            { Ids = ids.ToArray()
              WordStarts = starts.ToArray()
              Offsets = offsets.ToArray() }

        member _.Decode(ids: int[]) =
            let sb = StringBuilder()
            let pending = ResizeArray<byte>()

            let flush () =
                if pending.Count > 0 then
                    sb.Append(Encoding.UTF8.GetString(pending.ToArray())) |> ignore
                    pending.Clear()

            for id in ids do
                match ByteBpeModel.specialName model id with
                | Some name ->
                    flush ()
                    sb.Append name |> ignore
                | None when id >= 0 && id < vocab -> pending.AddRange bytesOf[id]
                | None -> invalidArg (nameof ids) (sprintf "token id %d is outside the vocabulary (size %d)" id vocab)

            flush ()
            sb.ToString()

        member this.TokenText(id: int) =
            match ByteBpeModel.specialName model id with
            | Some name -> name
            | None -> (this :> ITokenizer).Decode [| id |]
