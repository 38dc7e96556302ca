namespace Masking

open System
open System.IO
open System.Text
open System.Threading

/// Files are written under a temporary name beside their final one and renamed, so a reader never sees half a
/// file. The temporary name carries the process id and a counter: two processes (or two writers in one) that
/// write the same file never share a temporary, and the last rename wins with a whole file.
module AtomicFile =
    let private counter = ref 0L

    /// A fresh temporary name beside `path`, ending in ".tmp".
    let tempFor (path: string) : string =
        sprintf "%s.%d-%d.tmp" path Environment.ProcessId (Interlocked.Increment &counter.contents)

    /// Moves a finished temporary into place; the temporary is deleted if the move fails.
    let commit (temp: string) (path: string) =
        try
            File.Move(temp, path, true)
        with _ ->
            File.Delete temp
            reraise ()

    /// Writes text as UTF-8 without a byte-order mark.
    let writeAllText (path: string) (text: string) =
        let temp = tempFor path

        try
            File.WriteAllText(temp, text, UTF8Encoding false)
        with _ ->
            File.Delete temp
            reraise ()

        commit temp path
