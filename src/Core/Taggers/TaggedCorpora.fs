namespace Masking.Taggers

open System
open System.IO
open System.IO.Compression
open System.Text
open Masking.Tasks

/// A sentence of words with one tag each.
type TaggedSentence =
    {
        Words: string[]
        Tags: string[]
        /// Sentences of one document share a number (document-level features); -1 when unknown.
        Document: int
    }

/// Collects word/tag pairs into sentences, one sentence per Flush.
type internal SentenceCollector() =
    let sentences = ResizeArray<TaggedSentence>()
    let words = ResizeArray<string>()
    let tags = ResizeArray<string>()

    member _.Add(word: string, tag: string) =
        words.Add word
        tags.Add tag

    member _.Flush() =
        if words.Count > 0 then
            sentences.Add
                { Words = words.ToArray()
                  Tags = tags.ToArray()
                  Document = -1 }

            words.Clear()
            tags.Clear()

    member _.Count = sentences.Count
    member _.ToList() = List.ofSeq sentences

module TaggedCorpora =
    /// Universal Dependencies CoNLL-U (plain or .gz): UPOS (or PTB XPOS) per word; multi-word token ranges
    /// and empty nodes are skipped, as UD's own evaluation does.
    let conllu (path: string) (xpos: bool) : TaggedSentence list =
        if not (File.Exists path) then
            raise (ReadFailure(path, 0, "expected a CoNLL-U file"))

        let lines =
            if path.EndsWith ".gz" then
                use gz = new GZipStream(File.OpenRead path, CompressionMode.Decompress)
                use reader = new StreamReader(gz, UTF8Encoding(false, true))

                reader.ReadToEnd().Split('\n')
                |> Array.mapi (fun i l -> i + 1, l.TrimEnd '\r')
                |> Seq.ofArray
            else
                TextFile.lines path

        let sentences = SentenceCollector()
        let flush () = sentences.Flush()

        for n, line in lines do
            if String.IsNullOrWhiteSpace line then
                flush ()
            elif not (line.StartsWith "#") then
                let cols = line.Split('\t')

                if cols.Length <> 10 then
                    raise (
                        ReadFailure(path, n, sprintf "expected 10 tab-separated CoNLL-U columns, found %d" cols.Length)
                    )

                if not (cols[0].Contains "-" || cols[0].Contains ".") then
                    sentences.Add(cols[1], (if xpos then cols[4] else cols[3]))

        flush ()

        if sentences.Count = 0 then
            raise (ReadFailure(path, 1, "expected CoNLL-U sentences (the file is empty)"))

        sentences.ToList()

    /// CoNLL-2003 sentences with their IOB2 NER tags.
    let conllNer (path: string) : TaggedSentence list =
        [ for d, doc in Conll.read path |> List.indexed do
              for s in doc.Sentences ->
                  { Words = s |> Array.map (fun t -> t.Word)
                    Tags = s |> Array.map (fun t -> t.Ner)
                    Document = d } ]

    /// IOB2 files as UNER ships them: word<TAB>tag (extra columns ignored), blank lines between sentences,
    /// comment lines starting with '#'.
    let iob2 (path: string) : TaggedSentence list =
        let sentences = SentenceCollector()
        let flush () = sentences.Flush()

        for n, line in TextFile.lines path do
            if String.IsNullOrWhiteSpace line then
                flush ()
            elif not (line.StartsWith "#") then
                let cols = line.Split('\t')

                if cols.Length < 3 then
                    raise (ReadFailure(path, n, "expected index<TAB>word<TAB>tag"))

                let tag = cols[2]

                if not (tag = "O" || tag.StartsWith "B-" || tag.StartsWith "I-") then
                    raise (ReadFailure(path, n, sprintf "expected an IOB2 tag, found '%s'" tag))

                sentences.Add(cols[1], tag)

        flush ()
        sentences.ToList()
