namespace Masking.Tasks

open System

/// One token line of a CoNLL-2003 file: word, POS, chunk and NER (IOB2) tag.
type ConllToken =
    { Word: string
      Pos: string
      Chunk: string
      Ner: string }

/// A CoNLL-2003 document: its sentences in order.
type ConllDocument =
    { Line: int; Sentences: ConllToken[][] }

module Conll =
    /// Reads a CoNLL-2003 file (`word POS chunk NER` per line, blank lines between sentences,
    /// `-DOCSTART-` between documents).
    let read (path: string) : ConllDocument list =
        let documents = ResizeArray<ConllDocument>()
        let sentences = ResizeArray<ConllToken[]>()
        let sentence = ResizeArray<ConllToken>()
        let mutable docLine = 0

        let endSentence () =
            if sentence.Count > 0 then
                sentences.Add(sentence.ToArray())
                sentence.Clear()

        let endDocument () =
            endSentence ()

            if docLine > 0 then
                documents.Add
                    { Line = docLine
                      Sentences = sentences.ToArray() }

            sentences.Clear()

        for n, line in TextFile.lines path do
            if line.StartsWith("-DOCSTART-", StringComparison.Ordinal) then
                endDocument ()
                docLine <- n
            elif String.IsNullOrWhiteSpace line then
                endSentence ()
            else
                let cols = line.Split(' ')

                if cols.Length <> 4 then
                    JsonText.fail path n "expected 4 space-separated columns (word POS chunk NER), found %d" cols.Length

                let ner = cols[3]

                if
                    not (
                        ner = "O"
                        || ner.StartsWith("B-", StringComparison.Ordinal)
                        || ner.StartsWith("I-", StringComparison.Ordinal)
                    )
                then
                    JsonText.fail path n "expected an IOB2 NER tag (O, B-X or I-X), found '%s'" ner

                if docLine = 0 then
                    docLine <- n

                sentence.Add
                    { Word = cols[0]
                      Pos = cols[1]
                      Chunk = cols[2]
                      Ner = ner }

        endDocument ()

        if documents.Count = 0 then
            JsonText.fail path 1 "expected CoNLL-2003 documents (the file is empty)"

        List.ofSeq documents

/// A mention of the AIDA CoNLL-YAGO annotations: its first token in the document and its Wikipedia title
/// (None for --NME--, a mention with no entity).
type AidaMention =
    { Line: int
      Token: int
      Title: string option }

type AidaDocument =
    { Line: int
      Header: string
      Mentions: AidaMention list }

/// Rebuilds KILT's AY2 entity linking from CoNLL-2003 text and the AIDA-YAGO annotations.
module Aida =
    /// AIDA-YAGO writes some title characters as Java escapes ("People\u0027s_Republic_of_China",
    /// "A\u002eF\u002eC\u002e"); KILT's titles have the characters themselves.
    let unescapeTitle (title: string) =
        Text.RegularExpressions.Regex.Replace(
            title,
            @"\\u([0-9A-Fa-f]{4})",
            Text.RegularExpressions.MatchEvaluator(fun m -> string (char (Convert.ToInt32(m.Groups[1].Value, 16))))
        )

    let readAnnotations (path: string) : AidaDocument list =
        let docs = ResizeArray<AidaDocument>()
        let mentions = ResizeArray<AidaMention>()
        let mutable header = None

        let flush () =
            match header with
            | Some(line, h) ->
                docs.Add
                    { Line = line
                      Header = h
                      Mentions = List.ofSeq mentions }
            | None -> ()

            mentions.Clear()

        for n, line in TextFile.lines path do
            if line.StartsWith("-DOCSTART-", StringComparison.Ordinal) then
                flush ()
                header <- Some(n, line)
            elif not (String.IsNullOrWhiteSpace line) then
                if header.IsNone then
                    JsonText.fail path n "expected a -DOCSTART- line before the first mention"

                let cols = line.Split('\t')

                match Int32.TryParse cols[0] with
                | true, token when token >= 0 && cols.Length >= 2 ->
                    let title =
                        if cols[1] = "--NME--" then
                            None
                        else
                            Some((unescapeTitle cols[1]).Replace('_', ' '))

                    mentions.Add
                        { Line = n
                          Token = token
                          Title = title }
                | _ -> JsonText.fail path n "expected token_index<TAB>Wikipedia_title or token_index<TAB>--NME--"

        flush ()

        if docs.Count = 0 then
            JsonText.fail path 1 "expected AIDA-YAGO documents (the file is empty)"

        List.ofSeq docs

    /// KILT-style examples: the document with `[START_ENT] mention [END_ENT]`, and the entity's title.
    /// Sentences are joined by two spaces and tokens by one, as in KILT's AY2 inputs; --NME-- mentions are
    /// skipped, as KILT does.
    let examples
        (annotationsPath: string)
        (annotations: AidaDocument list)
        (documents: ConllDocument list)
        : TaskExample list =
        [ for doc, conll in List.zip annotations documents do
              let tokens = conll.Sentences |> Array.concat

              let sentenceOf =
                  conll.Sentences
                  |> Array.mapi (fun i s -> Array.create s.Length i)
                  |> Array.concat

              for m in doc.Mentions do
                  if m.Token >= tokens.Length then
                      JsonText.fail
                          annotationsPath
                          m.Line
                          "expected a token index inside the document (it has %d tokens)"
                          tokens.Length

                  if not (tokens[m.Token].Ner.StartsWith("B-", StringComparison.Ordinal)) then
                      JsonText.fail
                          annotationsPath
                          m.Line
                          "expected token %d to start an entity (a B- tag) in the CoNLL document"
                          m.Token

                  match m.Title with
                  | None -> ()
                  | Some title ->
                      let entityType = tokens[m.Token].Ner.Substring 2
                      let mutable stop = m.Token + 1

                      while stop < tokens.Length
                            && tokens[stop].Ner = "I-" + entityType
                            && sentenceOf[stop] = sentenceOf[m.Token] do
                          stop <- stop + 1

                      // KILT's construction: tokens joined by spaces with an empty token between sentences;
                      // the text left and right of the mention is trimmed before the markers go in.
                      let flat = ResizeArray<string>()
                      let position = Array.zeroCreate tokens.Length
                      let mutable k = 0

                      conll.Sentences
                      |> Array.iteri (fun si sentence ->
                          if si > 0 then
                              flat.Add ""

                          for t in sentence do
                              position[k] <- flat.Count
                              flat.Add t.Word
                              k <- k + 1)

                      let first, last = position[m.Token], position[stop - 1] + 1
                      let join (xs: string seq) = (String.Join(" ", xs)).Trim(' ')
                      let left = join (Seq.take first flat)
                      let mention = join (flat |> Seq.skip first |> Seq.take (last - first))
                      let right = join (Seq.skip last flat)

                      let text = (left + " [START_ENT] " + mention + " [END_ENT] " + right).Trim(' ')

                      yield
                          { TaskExample.create (sprintf "%s:%d" doc.Header m.Token) text [ title ] with
                              Context = Some(String.Join(" ", tokens |> Array.map (fun t -> t.Word))) } ]

    /// Reads annotations and CoNLL files (train, testa, testb in AIDA order) and builds the three splits.
    let read (annotationsPath: string) (conllTrain: string) (conllValid: string) (conllTest: string) =
        let annotations = readAnnotations annotationsPath

        let train, valid, test =
            Conll.read conllTrain, Conll.read conllValid, Conll.read conllTest

        let expected = train.Length + valid.Length + test.Length

        if annotations.Length <> expected then
            JsonText.fail
                annotationsPath
                1
                "expected %d documents (as many as the CoNLL files have), found %d"
                expected
                annotations.Length

        let a1, rest = List.splitAt train.Length annotations
        let a2, a3 = List.splitAt valid.Length rest
        examples annotationsPath a1 train, examples annotationsPath a2 valid, examples annotationsPath a3 test
