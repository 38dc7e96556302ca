namespace Masking.Tasks

open System
open System.Text
open Masking.Tasks.JsonText

/// Readers of the tasks' original formats. Each returns examples or raises a ReadFailure naming the file
/// and line; wrap calls in TaskExample.attempt to get a Result.
module Readers =
    let private nonEmpty (file: string) (line: int) (items: 'a list) (what: string) =
        if List.isEmpty items then
            fail file line "expected at least one %s" what

        items

    /// JSON Lines: one object per non-blank line.
    let jsonLines (path: string) : JsonNode list =
        let nodes =
            [ for n, line in TextFile.lines path do
                  if not (String.IsNullOrWhiteSpace line) then
                      yield parse path n line ]

        if nodes.IsEmpty then
            fail path 1 "expected at least one JSON object (the file is empty)"

        nodes

    /// A whole-file JSON document.
    let jsonDocument (path: string) : JsonNode =
        let text = TextFile.readAll path

        if String.IsNullOrWhiteSpace text then
            fail path 1 "expected a JSON document (the file is empty)"

        parse path 1 text

    /// KILT JSONL: {"id", "input", "output": [{"answer", "provenance"}], "meta"}. TriviaQA's KILT files carry no
    /// question (KILT ships ids only), so a missing input reads as "".
    let kilt (path: string) : TaskExample list =
        jsonLines path
        |> List.map (fun node ->
            let id = idField path node

            let input =
                match tryField "input" node with
                | Some v -> str path "\"input\"" v
                | None -> ""

            let answers =
                field path "output" node
                |> array path "\"output\""
                |> List.choose (fun o ->
                    match o.Value with
                    | JObject _ -> tryField "answer" o |> Option.map (str path "\"answer\"")
                    | v -> fail path o.Line "expected an object in \"output\", found %s" (kind v))

            TaskExample.create id input answers)

    /// NQ-open JSONL: {"question", "answer": [...]}.
    let nqOpen (path: string) : TaskExample list =
        jsonLines path
        |> List.mapi (fun i node ->
            TaskExample.create
                (sprintf "%d" i)
                (stringField path "question" node)
                (nonEmpty path node.Line (strings path "answer" node) "answer"))

    /// A Python list literal of strings, as in DPR's TSV topics: ['a', "b's", 'c\'d'].
    let pythonStringList (path: string) (line: int) (text: string) : string list =
        let t = text.Trim()

        if t.Length < 2 || t[0] <> '[' || t[t.Length - 1] <> ']' then
            fail path line "expected a Python list of strings such as ['a', 'b']"

        let items = ResizeArray<string>()
        let mutable i = 1

        let skipSpace () =
            while i < t.Length - 1 && Char.IsWhiteSpace t[i] do
                i <- i + 1

        skipSpace ()

        while i < t.Length - 1 do
            let quote = t[i]

            if quote <> '\'' && quote <> '"' then
                fail path line "expected a quoted string in the Python list, found '%c'" quote

            i <- i + 1
            let sb = StringBuilder()

            while i < t.Length - 1 && t[i] <> quote do
                if t[i] = '\\' && i + 1 < t.Length - 1 then
                    let c = t[i + 1]

                    match c with
                    | 'n' -> sb.Append '\n' |> ignore
                    | 't' -> sb.Append '\t' |> ignore
                    | 'x' when i + 3 < t.Length ->
                        sb.Append(char (Convert.ToInt32(t.Substring(i + 2, 2), 16))) |> ignore
                        i <- i + 2
                    | 'u' when i + 5 < t.Length ->
                        sb.Append(char (Convert.ToInt32(t.Substring(i + 2, 4), 16))) |> ignore
                        i <- i + 4
                    | c -> sb.Append c |> ignore

                    i <- i + 2
                else
                    sb.Append t[i] |> ignore
                    i <- i + 1

            if i >= t.Length - 1 then
                fail path line "expected a closing %c in the Python list" quote

            i <- i + 1
            items.Add(sb.ToString())
            skipSpace ()

            if i < t.Length - 1 then
                if t[i] <> ',' then
                    fail path line "expected ',' between strings in the Python list, found '%c'" t[i]

                i <- i + 1
                skipSpace ()

        List.ofSeq items

    /// A TSV field as csv writers quote it: "…" with "" for a quote inside.
    let private unquoteTsv (field: string) =
        if field.Length >= 2 && field[0] = '"' && field[field.Length - 1] = '"' then
            field.Substring(1, field.Length - 2).Replace("\"\"", "\"")
        else
            field

    /// DPR/Anserini topics: question<TAB>python-list-of-answers (either field may be csv-quoted).
    let dprTopics (path: string) : TaskExample list =
        let examples =
            [ for n, line in TextFile.lines path do
                  if not (String.IsNullOrWhiteSpace line) then
                      let tab = line.LastIndexOf '\t'

                      if tab < 0 then
                          fail path n "expected question<TAB>['answer', ...]"

                      let answers = pythonStringList path n (unquoteTsv (line.Substring(tab + 1)))

                      yield
                          TaskExample.create
                              (string n)
                              (unquoteTsv (line.Substring(0, tab)))
                              (nonEmpty path n answers "answer") ]

        if examples.IsEmpty then
            fail path 1 "expected at least one question (the file is empty)"

        examples

    /// TriviaQA unfiltered JSON: {"Data": [{"Question", "QuestionId", "Answer": {"Value", "Aliases"}}]}.
    let triviaqaUnfiltered (path: string) : TaskExample list =
        jsonDocument path
        |> field path "Data"
        |> array path "\"Data\""
        |> List.map (fun item ->
            let answer = field path "Answer" item
            let value = stringField path "Value" answer
            let aliases = strings path "Aliases" answer

            let id =
                match tryField "QuestionId" item with
                | Some v -> str path "\"QuestionId\"" v
                | None -> string item.Line

            TaskExample.create id (stringField path "Question" item) (value :: aliases |> List.distinct))

    /// WebQuestions as rewritten by brmson: [{"qId", "qText", "answers": [...]}].
    let webQuestions (path: string) : TaskExample list =
        jsonDocument path
        |> array path "the list of questions"
        |> List.map (fun item ->
            TaskExample.create
                (stringField path "qId" item)
                (stringField path "qText" item)
                (nonEmpty path item.Line (strings path "answers" item) "answer"))

    /// The answers in WebQuestions' original targetValue: (list (description "A b") (description C)).
    let webQuestionsTargetValue (path: string) (line: int) (value: string) : string list =
        let m =
            RegularExpressions.Regex.Matches(value, "\\(description (?:\"((?:[^\"\\\\]|\\\\.)*)\"|([^)\\s]+))\\)")

        if m.Count = 0 then
            fail path line "expected a targetValue like (list (description \"...\"))"

        [ for x in m ->
              if x.Groups[1].Success then
                  x.Groups[1].Value.Replace("\\\"", "\"")
              else
                  x.Groups[2].Value ]

    /// WebQuestions' original release: [{"url", "targetValue", "utterance"}].
    let webQuestionsOriginal (path: string) : TaskExample list =
        jsonDocument path
        |> array path "the list of questions"
        |> List.mapi (fun i item ->
            TaskExample.create
                (string i)
                (stringField path "utterance" item)
                (webQuestionsTargetValue path item.Line (stringField path "targetValue" item)))

    /// CrossFit / MetaICL text-to-text JSONL: {"task", "input", "output", "options"}.
    let crossfit (path: string) : TaskExample list =
        jsonLines path
        |> List.mapi (fun i node ->
            let options =
                match tryField "options" node with
                | Some v -> v |> array path "\"options\"" |> List.map (str path "an option")
                | None -> []

            { TaskExample.create (string i) (stringField path "input" node) [ stringField path "output" node ] with
                Options = options })

    let private letters (choices: (string * string) list) =
        choices
        |> List.map (fun (label, text) -> sprintf "(%s) %s" label text)
        |> String.concat " "

    let private choices path node =
        field path "choices" node
        |> array path "\"choices\""
        |> List.map (fun c -> stringField path "label" c, stringField path "text" c)

    /// WIQA v2 JSONL. Source as CrossFit casts it: stem, lettered options, [SEP], the process steps.
    let wiqa (path: string) : TaskExample list =
        jsonLines path
        |> List.map (fun node ->
            let q = field path "question" node
            let steps = strings path "para_steps" q |> List.filter (fun s -> s.Trim() <> "")
            let paragraph = String.Join(" ", steps)
            let options = choices path q
            let answer = stringField path "answer_label" q

            let id =
                match tryField "metadata" node |> Option.bind (tryField "ques_id") with
                | Some v -> str path "\"ques_id\"" v
                | None -> string node.Line

            { Id = id
              Source = sprintf "%s %s [SEP] %s" (stringField path "stem" q) (letters options) paragraph
              Targets = [ answer ]
              Context = Some paragraph
              Options = options |> List.map snd })

    /// QuaRTz v1 JSONL. Source: question, knowledge sentence, lettered options.
    let quartz (path: string) : TaskExample list =
        jsonLines path
        |> List.map (fun node ->
            let q = field path "question" node
            let options = choices path q
            let key = stringField path "answerKey" node
            let para = stringField path "para" node

            let answer =
                match options |> List.tryFind (fun (label, _) -> label = key) with
                | Some(_, text) -> text
                | None -> fail path node.Line "expected answerKey \"%s\" to name one of the choices" key

            { Id = stringField path "id" node
              Source = sprintf "%s %s %s" (stringField path "stem" q) para (letters options)
              Targets = [ answer ]
              Context = Some para
              Options = options |> List.map snd })

    /// QuaRTz train questions as PromptSource templates: [[input, [answer], "quartz|train|template|#i"]].
    let quartzPromptSource (path: string) : TaskExample list =
        jsonDocument path
        |> array path "the list of records"
        |> List.map (fun record ->
            match record.Value with
            | JArray [ input; answers; meta ] ->
                let source = str path "the input text" input
                let targets = answers |> array path "the answers" |> List.map (str path "an answer")
                let id = str path "the record id" meta
                // The knowledge sentence is the first paragraph of most templates.
                let context =
                    source.Split("\n\n", StringSplitOptions.RemoveEmptyEntries) |> Array.tryHead

                { TaskExample.create id source (nonEmpty path record.Line targets "answer") with
                    Context = context }
            | v -> fail path record.Line "expected [input, [answers], id], found %s" (kind v))

    /// ROPES (SQuAD-style JSON with background and situation). Source as CrossFit casts it.
    let ropes (path: string) : TaskExample list =
        jsonDocument path
        |> field path "data"
        |> array path "\"data\""
        |> List.collect (fun article ->
            field path "paragraphs" article
            |> array path "\"paragraphs\""
            |> List.collect (fun p ->
                let background = stringField path "background" p
                let situation = stringField path "situation" p

                field path "qas" p
                |> array path "\"qas\""
                |> List.map (fun qa ->
                    let answers =
                        field path "answers" qa
                        |> array path "\"answers\""
                        |> List.map (stringField path "text")

                    { Id = stringField path "id" qa
                      Source =
                        sprintf
                            "question: %s [SEP] situation: %s [SEP] background: %s"
                            (stringField path "question" qa)
                            situation
                            background
                      Targets = nonEmpty path qa.Line answers "answer"
                      Context = Some(background + " " + situation)
                      Options = [] })))
