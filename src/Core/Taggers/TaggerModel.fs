namespace Masking.Taggers

open System
open System.Collections.Generic
open Masking

type TaggerKind =
    | PosTagger
    | NerTagger

/// A trained greedy left-to-right tagger: an averaged perceptron whose features include the two previous
/// predicted tags. For NER it also keeps a lexicon of the entity types training words took.
type TaggerModel =
    {
        Kind: TaggerKind
        Tags: string[]
        Perceptron: AveragedPerceptron
        /// Lower-cased word → index of its most frequent entity type (NER only).
        Lexicon: Dictionary<string, int>
        /// Lower-cased word → gazetteer bits: 1 first name, 2 place, 4 nationality, 8 part of a longer place name.
        Gazetteer: Dictionary<string, int>
        /// Lower-cased word → its word-cluster id per granularity (coarse first), induced from unlabelled text.
        Clusters: Dictionary<string, int[]>
        /// Lower-cased word → how it is capitalised in mid-sentence in unlabelled text (CaseProfiles; NER only).
        CaseProfiles: Dictionary<string, int>
        /// NER's second pass: the same features plus the entity type the first pass gave each word elsewhere in
        /// the document (stacking; trained on cross-validated first-pass output).
        DocumentPass: AveragedPerceptron option
        /// What the model was trained on, with which options, and its dev score.
        Meta: Map<string, string>
    }

/// What a tagger may know beyond the sentence: the words its document uses in lower case (a capitalised
/// word that also appears in lower case is probably not a name).
type DocumentContext =
    {
        LowerCaseWords: HashSet<string>
        /// For the second pass: lower-cased word → the entity type (1–4) the first pass gave it most often in
        /// this document; null in the first pass.
        FirstPassTypes: Dictionary<string, int>
    }

module DocumentContext =
    let ofSentences (sentences: string[] seq) =
        let set = HashSet<string>()

        for s in sentences do
            for w in s do
                if w.Length > 0 && Char.IsLower w[0] then
                    set.Add w |> ignore

        { LowerCaseWords = set
          FirstPassTypes = null }

    /// The majority first-pass entity type of every capitalised word of the document.
    let withFirstPass (sentences: string[] list) (tags: string[] list) (context: DocumentContext) =
        let votes = Dictionary<string, int[]>()

        for words, ts in List.zip sentences tags do
            for w, t in Array.zip words ts do
                if t <> "O" && w.Length > 0 && Char.IsUpper w[0] then
                    let key = w.ToLowerInvariant()

                    if not (votes.ContainsKey key) then
                        votes[key] <- Array.zeroCreate 5

                    let k =
                        match t.Substring 2 with
                        | "PER" -> 1
                        | "ORG" -> 2
                        | "LOC" -> 3
                        | _ -> 4

                    votes[key][k] <- votes[key][k] + 1

        let types = Dictionary<string, int>()

        for KeyValue(w, v) in votes do
            types[w] <- [ 1..4 ] |> List.maxBy (fun k -> v[k], -k)

        { context with FirstPassTypes = types }
