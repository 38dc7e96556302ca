namespace Masking.Tasks

open System
open System.Collections.Generic
open System.Text
open System.Text.Json

/// A JSON value that remembers the line it starts on, so that readers can say "file:line: expected ...".
type Json =
    | JNull
    | JBool of bool
    /// A number as written in the text (JSON puts no limit on its size or precision; ids stay exact).
    | JNumber of string
    | JString of string
    | JArray of JsonNode list
    | JObject of (string * JsonNode) list

and JsonNode = { Value: Json; Line: int }

/// A reader's error: the file, the line and what was expected there.
exception ReadFailure of file: string * line: int * message: string

module JsonText =
    let fail file line fmt =
        Printf.kprintf (fun msg -> raise (ReadFailure(file, line, msg))) fmt

    /// Mutable collection of one object or array while its members are read (the tree is built without
    /// recursion, because Utf8JsonReader is a ref struct that closures cannot hold).
    type private Frame(isObject: bool, line: int) =
        member val Items = ResizeArray<JsonNode>()
        member val Fields = ResizeArray<string * JsonNode>()
        member val Key = "" with get, set
        member _.IsObject = isObject
        member _.Line = line

        member this.Node =
            { Value =
                if isObject then
                    JObject(List.ofSeq this.Fields)
                else
                    JArray(List.ofSeq this.Items)
              Line = line }

    /// What the text must hold next, after the last token the reader accepted.
    type private Expecting =
        | AValue
        | AValueOrEndOfArray
        | AFieldOrEndOfObject
        | AField
        | AColon
        | ACommaOrEndOfObject
        | ACommaOrEndOfArray
        | TheEnd

    let private isJsonSpace (c: char) =
        c = ' ' || c = '\t' || c = '\n' || c = '\r'

    /// Why the text is not JSON at or after character `from`, in this project's words ("expected … found …"),
    /// with the character position it concerns. Utf8JsonReader has decided that it is not; its own message names
    /// byte positions and reader states, so the reason is found again from what the reader last accepted.
    let private explain (text: string) (from: int) (expecting: Expecting) : int * string option =
        let describe p =
            if p >= text.Length then
                "the end of the text"
            else
                sprintf "'%c'" text[p]

        let rec skip p =
            if p < text.Length && isJsonSpace text[p] then
                skip (p + 1)
            else
                p

        let isHex (c: char) = Char.IsAsciiHexDigit c

        // The first problem inside a string starting at quote p, if any.
        let rec inString p =
            if p >= text.Length then
                p, Some "expected the end of a JSON string"
            else
                match text[p] with
                | '"' -> p, None
                | '\\' when p + 1 >= text.Length -> p, Some "expected an escape sequence in a JSON string"
                | '\\' ->
                    match text[p + 1] with
                    | '"'
                    | '\\'
                    | '/'
                    | 'b'
                    | 'f'
                    | 'n'
                    | 'r'
                    | 't' -> inString (p + 2)
                    | 'u' when p + 5 < text.Length && Seq.forall isHex (text.Substring(p + 2, 4)) -> inString (p + 6)
                    | 'u' -> p, Some "expected four hex digits after \\u"
                    | c -> p, Some(sprintf "expected a JSON escape, found '\\%c'" c)
                | '\n' -> p, Some "expected the end of a JSON string before the end of the line"
                | c when c < ' ' ->
                    p,
                    Some(
                        sprintf
                            "expected no raw control character in a JSON string, found U+%04X (write it as \\u%04X)"
                            (int c)
                            (int c)
                    )
                | _ -> inString (p + 1)

        let value p =
            match text[p] with
            | '"' -> inString (p + 1)
            | c when c = '-' || Char.IsAsciiDigit c ->
                let mutable e = p

                while e < text.Length && (Char.IsAsciiDigit text[e] || "+-.eE".IndexOf text[e] >= 0) do
                    e <- e + 1

                p, Some(sprintf "expected a JSON number, found '%s'" (text.Substring(p, e - p)))
            | _ -> p, Some(sprintf "expected a JSON value, found %s" (describe p))

        // A value after the field name's colon: the reader counts the colon with the name.
        let afterColon p =
            let q = skip p
            let q = if q < text.Length && text[q] = ':' then skip (q + 1) else q

            if q >= text.Length then
                q, Some "expected a JSON value, found the end of the text"
            else
                value q

        let field q =
            if q < text.Length && text[q] = '"' then
                match inString (q + 1) with
                | closing, None ->
                    let c = skip (closing + 1)

                    if c < text.Length && text[c] = ':' then
                        afterColon c
                    else
                        c, Some(sprintf "expected ':' in JSON, found %s" (describe c))
                | problem -> problem
            else
                q, Some(sprintf "expected a field name in a JSON object, found %s" (describe q))

        let p = skip from
        let atEnd = p >= text.Length

        match expecting with
        | TheEnd -> p, Some(sprintf "expected the end of the JSON text, found %s" (describe p))
        | AColon -> afterColon p
        | ACommaOrEndOfObject when atEnd || (text[p] <> ',' && text[p] <> '}') ->
            p, Some(sprintf "expected ',' or '}' in a JSON object, found %s" (describe p))
        | ACommaOrEndOfArray when atEnd || (text[p] <> ',' && text[p] <> ']') ->
            p, Some(sprintf "expected ',' or ']' in a JSON array, found %s" (describe p))
        | ACommaOrEndOfObject -> field (skip (p + 1))
        | AField
        | AFieldOrEndOfObject -> field p
        | ACommaOrEndOfArray
        | AValue
        | AValueOrEndOfArray ->
            let q = if expecting = ACommaOrEndOfArray then skip (p + 1) else p

            if q >= text.Length then
                q, Some "expected a JSON value, found the end of the text"
            else
                value q

    /// Deeper nesting than any task file has: a limit with a clear error rather than a reader lost in a
    /// 40,000-level line.
    let maxDepth = 64

    let private strict =
        JsonReaderOptions(
            CommentHandling = JsonCommentHandling.Disallow,
            AllowTrailingCommas = false,
            MaxDepth = maxDepth
        )

    /// Parses one JSON text (RFC 8259, as System.Text.Json's Utf8JsonReader reads it: no comments, no trailing
    /// commas, JSON's four whitespace characters only, no raw control characters in strings). Every node keeps
    /// the line it starts on; firstLine is the line number of the text's first character (JSONL lines).
    let parse (file: string) (firstLine: int) (text: string) : JsonNode =
        let bytes = Encoding.UTF8.GetBytes text
        // Byte offsets where lines begin, for the line of a token from its byte offset.
        let lineStarts =
            [| yield 0
               for i in 0 .. bytes.Length - 1 do
                   if bytes[i] = byte '\n' then
                       yield i + 1 |]

        let lineOfByte (offset: int64) =
            let i = Array.BinarySearch(lineStarts, int offset)
            firstLine + (if i >= 0 then i else ~~~i - 1)

        let lineOfChar (position: int) =
            firstLine
            + (text
               |> Seq.take (min position text.Length)
               |> Seq.filter ((=) '\n')
               |> Seq.length)

        let frames = Stack<Frame>()
        let result = ref None
        let mutable last = JsonTokenType.None
        let mutable consumed = 0L
        let mutable reader = Utf8JsonReader(ReadOnlySpan bytes, strict)

        let add (node: JsonNode) =
            if frames.Count = 0 then
                result.Value <- Some node
            else
                let top = frames.Peek()

                if top.IsObject then
                    top.Fields.Add(top.Key, node)
                else
                    top.Items.Add node

        try
            while reader.Read() do
                let line = lineOfByte reader.TokenStartIndex

                match reader.TokenType with
                | JsonTokenType.StartObject -> frames.Push(Frame(true, line))
                | JsonTokenType.StartArray -> frames.Push(Frame(false, line))
                | JsonTokenType.EndObject
                | JsonTokenType.EndArray -> add (frames.Pop().Node)
                | JsonTokenType.PropertyName -> frames.Peek().Key <- reader.GetString()
                | JsonTokenType.String ->
                    add
                        { Value = JString(reader.GetString())
                          Line = line }
                // Kept as written: an id 12345678901234567890 stays that, not 1.2345678901234567E+19.
                | JsonTokenType.Number ->
                    add
                        { Value = JNumber(Encoding.UTF8.GetString reader.ValueSpan)
                          Line = line }
                | JsonTokenType.True -> add { Value = JBool true; Line = line }
                | JsonTokenType.False -> add { Value = JBool false; Line = line }
                | JsonTokenType.Null -> add { Value = JNull; Line = line }
                | other -> fail file line "expected JSON, found a %O token" other

                last <- reader.TokenType
                consumed <- reader.BytesConsumed
        with :? JsonException as e ->
            let expecting =
                match last with
                | JsonTokenType.None -> AValue
                | JsonTokenType.StartObject -> AFieldOrEndOfObject
                | JsonTokenType.StartArray -> AValueOrEndOfArray
                | JsonTokenType.PropertyName -> AColon
                | _ when frames.Count = 0 -> TheEnd
                | _ when frames.Peek().IsObject -> ACommaOrEndOfObject
                | _ -> ACommaOrEndOfArray

            let from = Encoding.UTF8.GetCharCount(bytes, 0, int consumed)

            let opensAnother =
                let rest = text.AsSpan(from).TrimStart(" \t\r\n,:".AsSpan())
                not rest.IsEmpty && (rest[0] = '[' || rest[0] = '{')

            if frames.Count >= maxDepth && opensAnother then
                fail file (lineOfChar from) "expected JSON nested at most %d levels deep" maxDepth

            match explain text from expecting with
            | at, Some message -> raise (ReadFailure(file, lineOfChar at, message))
            | at, None ->
                // The reader's reason, without its byte positions (the line is ours).
                let reason = (e.Message.Split " LineNumber:").[0].TrimEnd '.'
                raise (ReadFailure(file, lineOfChar at, sprintf "expected JSON (%s)" reason))

        match result.Value with
        | Some node -> node
        | None -> fail file (lineOfChar text.Length) "expected a JSON value, found the end of the text"

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
        | JNumber x -> x
        | v -> fail file node.Line "expected \"id\" as a string, found %s" (kind v)
