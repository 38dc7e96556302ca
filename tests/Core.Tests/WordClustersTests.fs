module Masking.Tests.WordClustersTests

open Xunit
open Masking.Taggers

/// Two word families that never share a context: cities after "in", verbs after "they".
let private corpus =
    let cities = [ "paris"; "rome"; "oslo"; "lima" ]
    let verbs = [ "ran"; "sang"; "slept"; "swam" ]

    [ for round in 0..20 do
          for c in cities do
              yield [| "she"; "lives"; "in"; c; "today"; "." |]

          for v in verbs do
              yield [| "they"; v; "quickly"; "and"; "left"; "." |]

          yield [| "round"; string (round % 3); "." |] ]

let private options =
    { WordClusterOptions.defaults with
        Granularities = [ 2; 8 ]
        MinCount = 2 }

[<Fact>]
let ``words used in the same contexts share a cluster and other words do not`` () =
    let table = WordClusters.build options corpus ignore
    let fine w = WordClusters.lookup table 1 w
    Assert.Equal(fine "paris", fine "rome")
    Assert.Equal(fine "paris", fine "lima")
    Assert.Equal(fine "ran", fine "swam")
    Assert.NotEqual(fine "paris", fine "ran")
    // Lookups are by lower-cased word; unseen words have none.
    Assert.Equal(WordClusters.none, WordClusters.lookup table 0 "tokyo")
    Assert.Equal(2, table["oslo"].Length)

[<Fact>]
let ``clustering is deterministic`` () =
    let a = WordClusters.build options corpus ignore
    let b = WordClusters.build options corpus ignore
    Assert.Equal(a.Count, b.Count)

    for KeyValue(w, ids) in a do
        Assert.Equal<int[]>(ids, b[w])

[<Fact>]
let ``the shipped taggers carry their word clusters`` () =
    let path =
        System.IO.Path.Combine(Masking.Tests.TestData.repoRoot.Value, "models", "pos.tagger")

    let model = TaggerFile.load path |> Result.defaultWith failwith
    Assert.True(model.Clusters.Count > 10000, sprintf "%d clustered words" model.Clusters.Count)
    Assert.Equal(3, model.Clusters["london"].Length)
    Assert.True(model.Meta["clusters"].Contains "wikitext2/wiki.valid.raw")
