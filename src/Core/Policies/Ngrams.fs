namespace Masking.Policies

open System
open System.Collections.Generic

/// A masking vocabulary of word n-grams (PMI-masking, Levine et al. 2021). A word is a whole-word unit of the
/// tokenizer (a word-start token and its continuations), known by its token ids; so the vocabulary is tied to
/// the tokenizer it was built with, and records that tokenizer's size to refuse another.
[<Sealed>]
type NgramVocabulary(ranks: Dictionary<string, int>, maxWords: int, vocabSize: int) =
    /// The rank of the word n-gram with this key (see Ngrams.key), 0 the best, or None when it is not in the
    /// vocabulary.
    member _.Rank(key: string) =
        match ranks.TryGetValue key with
        | true, r -> Some r
        | _ -> None

    /// The longest n-gram, in words.
    member _.MaxWords = maxWords
    /// The size of the tokenizer the n-grams' ids come from.
    member _.VocabSize = vocabSize
    member _.Count = ranks.Count

module Ngrams =
    /// A word's key: its token ids, '.'-joined.
    let wordKey (tokens: int[]) (word: Masking.Span) =
        String.Join('.', tokens[word.Start .. word.End - 1])

    /// An n-gram's key: its words' keys, space-joined.
    let key (wordKeys: string seq) = String.Join(' ', wordKeys)
