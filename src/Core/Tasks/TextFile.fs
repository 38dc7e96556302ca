namespace Masking.Tasks

open System
open System.IO
open System.Text

/// Line-by-line reading of UTF-8 text with errors that name the file and line: invalid UTF-8, NUL bytes
/// (binary files) and unreadable files are ReadFailures, never crashes later on.
module TextFile =
    let private strict = UTF8Encoding(false, true)

    let private decode (path: string) (lineNumber: int) (bytes: ReadOnlySpan<byte>) =
        let mutable span = bytes

        if
            lineNumber = 1
            && span.Length >= 3
            && span[0] = 0xEFuy
            && span[1] = 0xBBuy
            && span[2] = 0xBFuy
        then
            span <- span.Slice 3

        if span.Length > 0 && span[span.Length - 1] = byte '\r' then
            span <- span.Slice(0, span.Length - 1)

        if span.IndexOf 0uy >= 0 then
            raise (ReadFailure(path, lineNumber, "expected text, found a NUL byte (binary file?)"))

        try
            strict.GetString span
        with :? DecoderFallbackException ->
            raise (ReadFailure(path, lineNumber, "expected UTF-8 text"))

    /// The lines of a file with their numbers (from 1), lazily.
    let lines (path: string) : seq<int * string> =
        seq {
            if not (File.Exists path) then
                raise (ReadFailure(path, 0, "expected a readable file"))

            use stream = new BufferedStream(File.OpenRead path, 1 <<< 16)
            let line = new MemoryStream()
            let mutable lineNumber = 0
            let mutable fin = false

            while not fin do
                let b = stream.ReadByte()

                if b = int '\n' || (b < 0 && line.Length > 0L) then
                    lineNumber <- lineNumber + 1
                    yield lineNumber, decode path lineNumber (ReadOnlySpan(line.GetBuffer(), 0, int line.Length))
                    line.SetLength 0L
                elif b >= 0 then
                    line.WriteByte(byte b)

                if b < 0 then
                    fin <- true
        }

    /// The whole file as text (for JSON documents), with the same checks.
    let readAll (path: string) : string =
        String.Join("\n", lines path |> Seq.map snd)

    /// The non-blank lines of a text file, or "file:line: ..." when it does not read.
    let nonEmptyLines (path: string) : Result<string[], string> =
        TaskExample.attempt
            (fun p ->
                lines p
                |> Seq.map snd
                |> Seq.filter (fun l -> l.Trim().Length > 0)
                |> Array.ofSeq)
            path
