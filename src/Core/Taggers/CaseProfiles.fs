namespace Masking.Taggers

open System
open System.Collections.Generic

/// How each word is usually written in running text, from unlabelled text: a capitalised word at the start of
/// a sentence or in an all-caps headline ("POLICE SAY …") says little by itself; whether the same word is
/// written capitalised in the middle of ordinary sentences says whether it is a name. A word's profile is
/// the class of its share of capitalised mid-sentence occurrences.
module CaseProfiles =
    /// The word was not seen often enough in the middle of a sentence.
    let unseen = 0

    /// Mostly written in capitals in mid-sentence (acronyms: "UN", "NATO").
    let acronym = 6

    /// Tokens after which the next word may be capitalised for reasons other than being a name.
    let private openers =
        HashSet<string>([ "."; "!"; "?"; ":"; ";"; "\""; "``"; "''"; "'"; "("; "["; "-"; "--"; "@-@" ])

    let private hasLetter (w: string) = w |> Seq.exists Char.IsLetter

    /// A headline or shouted line: every word with two or more letters is in capitals. (Not the tagger's
    /// Features.isHeadline — no lower-case letter anywhere — which differs on sentences without such words;
    /// the shipped profiles were built with this test.)
    let private isShouted (words: string[]) =
        let long = words |> Array.filter (fun w -> w.Length > 1 && hasLetter w)
        long.Length > 0 && long |> Array.forall Features.isAllCaps

    /// The class of a share of capitalised occurrences: 1 (< 5%), 2 (< 30%), 3 (< 70%), 4 (< 95%), 5.
    let private classOf (capitalised: int) (allCaps: int) (total: int) =
        let share = float capitalised / float total

        if float allCaps / float total >= 0.5 then acronym
        elif share < 0.05 then 1
        elif share < 0.3 then 2
        elif share < 0.7 then 3
        elif share < 0.95 then 4
        else 5

    /// Lower-cased word → profile class, for words seen at least `minCount` times in mid-sentence positions of
    /// ordinary (non-headline) sentences.
    let build (minCount: int) (sentences: string[] seq) : Dictionary<string, int> =
        // Per lower-cased word: mid-sentence occurrences, capitalised ones, all-caps ones (two letters or more).
        let counts = Dictionary<string, int[]>()

        for words in sentences do
            if not (isShouted words) then
                for i in 1 .. words.Length - 1 do
                    let w = words[i]

                    if hasLetter w && not (openers.Contains words[i - 1]) then
                        let key = w.ToLowerInvariant()

                        let c =
                            match counts.TryGetValue key with
                            | true, c -> c
                            | _ ->
                                let c = Array.zeroCreate 3
                                counts[key] <- c
                                c

                        c[0] <- c[0] + 1

                        if Char.IsUpper w[0] then
                            c[1] <- c[1] + 1

                        if w.Length > 1 && Features.isAllCaps w then
                            c[2] <- c[2] + 1

        let profiles = Dictionary<string, int>()

        for KeyValue(word, c) in counts |> Seq.sortBy (fun kv -> kv.Key) do
            if c[0] >= minCount then
                profiles[word] <- classOf c[1] c[2] c[0]

        profiles

    /// The word's profile class, or `unseen`.
    let lookup (profiles: Dictionary<string, int>) (lowerWord: string) =
        match profiles.TryGetValue lowerWord with
        | true, p -> p
        | _ -> unseen
