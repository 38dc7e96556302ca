namespace Masking.Tasks

open System
open System.Globalization
open System.Text

/// A JSON value that remembers the line it starts on, so that readers can say "file:line: expected ...".
type Json =
    | JNull
    | JBool of bool
    | JNumber of float
    | JString of string
    | JArray of JsonNode list
    | JObject of (string * JsonNode) list

and JsonNode = { Value: Json; Line: int }

/// A reader's error: the file, the line and what was expected there.
exception ReadFailure of file: string * line: int * message: string

module JsonText =
    let fail file line fmt =
        Printf.kprintf (fun msg -> raise (ReadFailure(file, line, msg))) fmt

    /// Parses one JSON text; firstLine is the line number of its first character (JSONL lines).
    let parse (file: string) (firstLine: int) (text: string) : JsonNode =
        let mutable pos = 0
        let mutable line = firstLine
        let error fmt = fail file line fmt

        let skip () =
            while pos < text.Length && Char.IsWhiteSpace text[pos] do
                if text[pos] = '\n' then
                    line <- line + 1

                pos <- pos + 1

        let describe () =
            if pos >= text.Length then
                "the end of the text"
            else
                sprintf "'%c'" text[pos]

        let expectChar (c: char) =
            skip ()

            if pos >= text.Length || text[pos] <> c then
                error "expected '%c' in JSON, found %s" c (describe ())

            pos <- pos + 1

        let readString () =
            // pos is at the opening quote
            pos <- pos + 1
            let sb = StringBuilder()
            let mutable fin = false

            while not fin do
                if pos >= text.Length then
                    error "expected the end of a JSON string"

                match text[pos] with
                | '"' ->
                    pos <- pos + 1
                    fin <- true
                | '\\' ->
                    if pos + 1 >= text.Length then
                        error "expected an escape sequence in a JSON string"

                    match text[pos + 1] with
                    | '"' -> sb.Append '"' |> ignore
                    | '\\' -> sb.Append '\\' |> ignore
                    | '/' -> sb.Append '/' |> ignore
                    | 'b' -> sb.Append '\b' |> ignore
                    | 'f' -> sb.Append '\f' |> ignore
                    | 'n' -> sb.Append '\n' |> ignore
                    | 'r' -> sb.Append '\r' |> ignore
                    | 't' -> sb.Append '\t' |> ignore
                    | 'u' when pos + 5 < text.Length ->
                        match
                            Int32.TryParse(
                                text.AsSpan(pos + 2, 4),
                                NumberStyles.HexNumber,
                                CultureInfo.InvariantCulture
                            )
                        with
                        | true, code ->
                            sb.Append(char code) |> ignore
                            pos <- pos + 4
                        | _ -> error "expected four hex digits after \\u"
                    | c -> error "expected a JSON escape, found '\\%c'" c

                    pos <- pos + 2
                | '\n' -> error "expected the end of a JSON string before the end of the line"
                | c ->
                    sb.Append c |> ignore
                    pos <- pos + 1

            sb.ToString()

        let rec value () : JsonNode =
            skip ()

            if pos >= text.Length then
                error "expected a JSON value, found the end of the text"

            let startLine = line

            let v =
                match text[pos] with
                | '{' ->
                    pos <- pos + 1
                    skip ()
                    let fields = ResizeArray<string * JsonNode>()

                    if pos < text.Length && text[pos] = '}' then
                        pos <- pos + 1
                    else
                        let mutable more = true

                        while more do
                            skip ()

                            if pos >= text.Length || text[pos] <> '"' then
                                error "expected a field name in a JSON object, found %s" (describe ())

                            let key = readString ()
                            expectChar ':'
                            fields.Add(key, value ())
                            skip ()

                            if pos < text.Length && text[pos] = ',' then
                                pos <- pos + 1
                            elif pos < text.Length && text[pos] = '}' then
                                pos <- pos + 1
                                more <- false
                            else
                                error "expected ',' or '}' in a JSON object, found %s" (describe ())

                    JObject(List.ofSeq fields)
                | '[' ->
                    pos <- pos + 1
                    skip ()
                    let items = ResizeArray<JsonNode>()

                    if pos < text.Length && text[pos] = ']' then
                        pos <- pos + 1
                    else
                        let mutable more = true

                        while more do
                            items.Add(value ())
                            skip ()

                            if pos < text.Length && text[pos] = ',' then
                                pos <- pos + 1
                            elif pos < text.Length && text[pos] = ']' then
                                pos <- pos + 1
                                more <- false
                            else
                                error "expected ',' or ']' in a JSON array, found %s" (describe ())

                    JArray(List.ofSeq items)
                | '"' -> JString(readString ())
                | 't' when String.CompareOrdinal(text, pos, "true", 0, 4) = 0 ->
                    pos <- pos + 4
                    JBool true
                | 'f' when String.CompareOrdinal(text, pos, "false", 0, 5) = 0 ->
                    pos <- pos + 5
                    JBool false
                | 'n' when String.CompareOrdinal(text, pos, "null", 0, 4) = 0 ->
                    pos <- pos + 4
                    JNull
                | c when c = '-' || Char.IsDigit c ->
                    let start = pos

                    while pos < text.Length && (Char.IsDigit text[pos] || "+-.eE".IndexOf text[pos] >= 0) do
                        pos <- pos + 1

                    match
                        Double.TryParse(
                            text.AsSpan(start, pos - start),
                            NumberStyles.Float,
                            CultureInfo.InvariantCulture
                        )
                    with
                    | true, x -> JNumber x
                    | _ -> error "expected a JSON number, found '%s'" (text.Substring(start, pos - start))
                | _ -> error "expected a JSON value, found %s" (describe ())

            { Value = v; Line = startLine }

        let result = value ()
        skip ()

        if pos < text.Length then
            error "expected the end of the JSON text, found %s" (describe ())

        result

    let kind (v: Json) =
        match v with
        | JNull -> "null"
        | JBool _ -> "a boolean"
        | JNumber _ -> "a number"
        | JString _ -> "a string"
        | JArray _ -> "an array"
        | JObject _ -> "an object"

    let tryField (name: string) (node: JsonNode) =
        match node.Value with
        | JObject fields -> fields |> List.tryFind (fun (k, _) -> k = name) |> Option.map snd
        | _ -> None

    let field (file: string) (name: string) (node: JsonNode) =
        match node.Value with
        | JObject _ ->
            match tryField name node with
            | Some v -> v
            | None -> fail file node.Line "expected a field \"%s\"" name
        | v -> fail file node.Line "expected an object with a field \"%s\", found %s" name (kind v)

    let str (file: string) (what: string) (node: JsonNode) =
        match node.Value with
        | JString s -> s
        | v -> fail file node.Line "expected %s as a string, found %s" what (kind v)

    let array (file: string) (what: string) (node: JsonNode) =
        match node.Value with
        | JArray items -> items
        | v -> fail file node.Line "expected %s as an array, found %s" what (kind v)

    let stringField file name node =
        field file name node |> str file ("\"" + name + "\"")

    let strings file name node =
        field file name node
        |> array file ("\"" + name + "\"")
        |> List.map (str file ("an element of \"" + name + "\""))

    /// An "id" field given as a string or a number.
    let idField (file: string) (node: JsonNode) =
        match (field file "id" node).Value with
        | JString s -> s
        | JNumber x -> string x
        | v -> fail file node.Line "expected \"id\" as a string, found %s" (kind v)
