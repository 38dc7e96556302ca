namespace Masking.Taggers

open System
open System.Collections.Generic
open System.IO
open System.IO.Compression
open Masking

/// Gazetteers for NER from NLTK's data packages (first names, countries, cities, states, nationalities).
module Gazetteer =
    let private add (g: Dictionary<string, int>) (entry: string) (bit: int) =
        let words = entry.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)

        for w in words do
            let key = w.ToLowerInvariant()
            let extra = if words.Length > 1 then 8 else bit

            g[key] <-
                (match g.TryGetValue key with
                 | true, b -> b
                 | _ -> 0)
                ||| extra

    /// Reads nltk_data/gazetteers.zip and names.zip from the data root.
    let fromNltk (nltkDirectory: string) : Result<Dictionary<string, int>, string> =
        try
            let g = Dictionary<string, int>()

            let entries (zip: string) =
                use archive = ZipFile.OpenRead(Path.Combine(nltkDirectory, zip))

                [ for e in archive.Entries do
                      if e.Name.EndsWith ".txt" && not (e.Name.StartsWith "LICENSE") then
                          use reader = new StreamReader(e.Open())
                          yield e.Name, reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries) ]

            for name, lines in entries "names.zip" do
                for l in lines do
                    if not (l.StartsWith "#") then
                        add g l 1

            for name, lines in entries "gazetteers.zip" do
                let bit = if name = "nationalities.txt" then 4 else 2

                for l in lines do
                    add g l bit

            Ok g
        with
        | :? IOException as e -> Error(sprintf "%s:0: cannot read NLTK gazetteers (%s)" nltkDirectory e.Message)
        | :? InvalidDataException as e -> Error(sprintf "%s:0: expected zip files (%s)" nltkDirectory e.Message)
