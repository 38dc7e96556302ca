/// JSON as RFC 8259 defines it: what JsonText accepts, what it refuses, and the "file:line: expected …" it says.
module Masking.Tests.JsonTextTests

open Xunit
open Masking.Tasks

let private parse (text: string) = JsonText.parse "f.json" 1 text

let private refused (text: string) =
    try
        parse text |> ignore
        failwithf "accepted %A" text
    with ReadFailure(file, line, message) ->
        Assert.Equal("f.json", file)
        line, message

[<Fact>]
let ``values, nesting and lines`` () =
    let node =
        parse "{\n  \"a\": [1, -2.5e3, true, null],\n  \"b\": {\"c\": \"d\\u00e9\\n\"}\n}"

    Assert.Equal(1, node.Line)

    match (JsonText.field "f" "a" node).Value with
    | JArray [ one; big; t; n ] ->
        Assert.Equal(JNumber "1", one.Value)
        Assert.Equal(JNumber "-2.5e3", big.Value)
        Assert.Equal(JBool true, t.Value)
        Assert.Equal(JNull, n.Value)
        Assert.Equal(2, one.Line)
    | other -> failwithf "got %A" other

    let b = JsonText.field "f" "b" node
    Assert.Equal(3, b.Line)
    Assert.Equal("d\u00e9\n", JsonText.stringField "f" "c" b)

[<Theory>]
[<InlineData("12345678901234567890", "12345678901234567890")>]
[<InlineData("1.50", "1.50")>]
[<InlineData("7", "7")>]
[<InlineData("\"q-7\"", "q-7")>]
let ``numeric ids are kept as written`` (id: string, expected: string) =
    Assert.Equal(expected, JsonText.idField "f" (parse ("{\"id\": " + id + "}")))

[<Theory>]
[<InlineData("{\"a\": \"x\u0001y\"}", "expected no raw control character in a JSON string, found U+0001")>]
[<InlineData("{\"a\": \"x\ty\"}", "expected no raw control character in a JSON string, found U+0009")>]
[<InlineData("\u00a0{}", "expected a JSON value, found '\u00a0'")>]
[<InlineData("{\"a\":\u20031}", "expected a JSON value, found '\u2003'")>]
[<InlineData("{\"a\": 1,}", "expected a field name in a JSON object, found '}'")>]
[<InlineData("[1, 2,]", "expected a JSON value, found ']'")>]
[<InlineData("{\"a\": 1} // note", "expected the end of the JSON text, found '/'")>]
[<InlineData("{'a': 1}", "expected a field name in a JSON object, found '''")>]
[<InlineData("{\"a\": 01}", "expected a JSON number, found '01'")>]
[<InlineData("{\"a\": tru}", "expected a JSON value, found 't'")>]
[<InlineData("{\"a\" 1}", "expected ':' in JSON, found '1'")>]
[<InlineData("{\"a\": \"\\x\"}", "expected a JSON escape, found '\\x'")>]
[<InlineData("{\"a\": \"\\u12\"}", "expected four hex digits after \\u")>]
[<InlineData("", "expected a JSON value, found the end of the text")>]
[<InlineData("  ", "expected a JSON value, found the end of the text")>]
let ``what JSON does not allow is refused with what was expected`` (text: string, expected: string) =
    let _, message = refused text
    Assert.StartsWith(expected, message)

[<Fact>]
let ``an error names the line it is on`` () =
    let line, message = refused "{\n  \"a\": 1,\n  \"b\": [1 2]\n}"
    Assert.Equal(3, line)
    Assert.Equal("expected ',' or ']' in a JSON array, found '2'", message)

[<Fact>]
let ``JSON Lines count from their own line`` () =
    let node = JsonText.parse "f.jsonl" 40 "{\"a\": {\"b\": 1}}"
    Assert.Equal(40, (JsonText.field "f" "a" node).Line)

    let line =
        try
            JsonText.parse "f.jsonl" 40 "{\"a\": \"open" |> ignore
            0
        with ReadFailure(_, line, message) ->
            Assert.Equal("expected the end of a JSON string", message)
            line

    Assert.Equal(40, line)

[<Fact>]
let ``deep nesting is refused with its limit, not a stack overflow`` () =
    let line, message =
        refused ("{\"a\":\n" + String.replicate 40000 "[" + String.replicate 40000 "]" + "}")

    Assert.Equal(2, line)
    Assert.Equal(sprintf "expected JSON nested at most %d levels deep" JsonText.maxDepth, message)
    // The limit itself still reads.
    let deepest =
        String.replicate JsonText.maxDepth "[" + String.replicate JsonText.maxDepth "]"

    parse deepest |> ignore
