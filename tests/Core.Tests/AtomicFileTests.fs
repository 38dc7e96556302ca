module Masking.Tests.AtomicFileTests

open System.IO
open Xunit
open Masking

[<Fact>]
let ``a write leaves another writer's temporary of the same file alone`` () =
    let dir = Directory.CreateTempSubdirectory("masking-atomic-").FullName
    let path = Path.Combine(dir, "out.json")
    // Another process in the middle of writing the same file, under the old fixed name path + ".tmp".
    let other = path + ".tmp"

    do
        use held = new FileStream(other, FileMode.Create, FileAccess.Write, FileShare.None)
        held.Write([| 1uy; 2uy |], 0, 2)
        held.Flush()
        AtomicFile.writeAllText path "mine"

    Assert.Equal("mine", File.ReadAllText path)
    Assert.Equal<byte[]>([| 1uy; 2uy |], File.ReadAllBytes other)
    Assert.Equal<string[]>([| path; other |], Directory.GetFiles dir |> Array.sort)

[<Fact>]
let ``temporary names are fresh, beside the file and end in .tmp`` () =
    let a, b = AtomicFile.tempFor "/x/y.json", AtomicFile.tempFor "/x/y.json"
    Assert.NotEqual<string>(a, b)

    for t in [ a; b ] do
        Assert.StartsWith("/x/y.json.", t)
        Assert.EndsWith(".tmp", t)
