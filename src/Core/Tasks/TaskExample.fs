namespace Masking.Tasks

/// The paper's three task families.
type TaskFamily =
    | ClosedBookQA
    | KnowledgeIntensive
    | ContextQA

type Split =
    | Train
    | Dev
    | Test

module Split =
    let name =
        function
        | Train -> "train"
        | Dev -> "dev"
        | Test -> "test"

    let parse =
        function
        | "train" -> Ok Train
        | "dev" -> Ok Dev
        | "test" -> Ok Test
        | s -> Error(sprintf "unknown split '%s'; known: train, dev, test" s)

/// One example cast to text-to-text.
type TaskExample =
    {
        Id: string
        /// The encoder input.
        Source: string
        /// Gold answers; the first is the training target.
        Targets: string list
        /// The paragraph a learned policy or in-domain intermediate pre-training reads (None if the task has none).
        Context: string option
        /// Answer choices of multiple-choice tasks.
        Options: string list
    }

module TaskExample =
    let create id source targets =
        { Id = id
          Source = source
          Targets = targets
          Context = None
          Options = [] }

    /// Runs a reader on a file, turning read failures and I/O errors into "file:line: message".
    let attempt (reader: string -> 'T) (path: string) : Result<'T, string> =
        try
            Ok(reader path)
        with
        | ReadFailure(file, line, message) -> Error(sprintf "%s:%d: %s" file line message)
        | :? System.IO.IOException as e -> Error(sprintf "%s:0: cannot read the file (%s)" path e.Message)
        | :? System.UnauthorizedAccessException as e -> Error(sprintf "%s:0: cannot read the file (%s)" path e.Message)
