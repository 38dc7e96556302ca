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

        let sentences = ResizeArray<TaggedSentence>()
        let words = ResizeArray<string>()
        let tags = ResizeArray<string>()

        let flush () =
            if words.Count > 0 then
                sentences.Add
                    { Words = words.ToArray()
                      Tags = tags.ToArray()
                      Document = -1 }

                words.Clear()
                tags.Clear()

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
                    words.Add cols[1]
                    tags.Add(if xpos then cols[4] else cols[3])

        flush ()

        if sentences.Count = 0 then
            raise (ReadFailure(path, 1, "expected CoNLL-U sentences (the file is empty)"))

        List.ofSeq sentences

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
        let sentences = ResizeArray<TaggedSentence>()
        let words = ResizeArray<string>()
        let tags = ResizeArray<string>()

        let flush () =
            if words.Count > 0 then
                sentences.Add
                    { Words = words.ToArray()
                      Tags = tags.ToArray()
                      Document = -1 }

                words.Clear()
                tags.Clear()

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

                words.Add cols[1]
                tags.Add tag

        flush ()
        List.ofSeq sentences
