namespace Masking.Model

/// The shape of a BART-style encoder–decoder. Plain data with defaults; presets below.
type ModelConfig =
    {
        VocabSize: int
        DModel: int
        EncoderLayers: int
        DecoderLayers: int
        Heads: int
        FfnDim: int
        /// Learned positions (BART keeps two more rows: its position offset is 2).
        MaxPositions: int
        Dropout: float
        AttentionDropout: float
        ActivationDropout: float
        /// Pre-norm layers (and a final layer norm per stack) instead of BART's post-norm.
        PreNorm: bool
        /// Multiply token embeddings by sqrt(d) (BART-base: no).
        ScaleEmbedding: bool
        PadId: int
        /// BART starts decoding from </s>.
        DecoderStartId: int
        EosId: int
    }

module ModelConfig =
    let private baseline =
        { VocabSize = 8000
          DModel = 128
          EncoderLayers = 2
          DecoderLayers = 2
          Heads = 4
          FfnDim = 512
          MaxPositions = 256
          Dropout = 0.1
          AttentionDropout = 0.0
          ActivationDropout = 0.0
          PreNorm = false
          ScaleEmbedding = false
          PadId = 1
          DecoderStartId = 2
          EosId = 2 }

    /// d 128, 2+2 layers, 4 heads, FFN 512.
    let tiny = baseline

    /// d 256, 4+4 layers, 4 heads, FFN 1024.
    let small =
        { baseline with
            DModel = 256
            EncoderLayers = 4
            DecoderLayers = 4
            FfnDim = 1024 }

    /// The shape of facebook/bart-base: 6+6 layers, d 768, 12 heads, FFN 3072, vocab 50265, 1024 positions.
    let bartBase =
        { baseline with
            VocabSize = 50265
            DModel = 768
            EncoderLayers = 6
            DecoderLayers = 6
            Heads = 12
            FfnDim = 3072
            MaxPositions = 1024 }

    /// d 32, 1+1 layers, 2 heads, FFN 64: for tests and smoke runs only.
    let micro =
        { baseline with
            DModel = 32
            EncoderLayers = 1
            DecoderLayers = 1
            Heads = 2
            FfnDim = 64
            MaxPositions = 128 }

    let presets =
        [ "micro", micro; "tiny", tiny; "small", small; "bart-base", bartBase ]

    let tryPreset (name: string) =
        presets |> List.tryFind (fun (n, _) -> n = name) |> Option.map snd

    /// A preset adapted to a vocabulary's size and special ids, with room for the longest sequence.
    let forVocabulary (preset: ModelConfig) (vocabSize: int) (padId: int) (eosId: int) (longest: int) =
        { preset with
            VocabSize = vocabSize
            PadId = padId
            EosId = eosId
            DecoderStartId = eosId
            MaxPositions = max preset.MaxPositions longest }

    let validate (c: ModelConfig) : Result<ModelConfig, string> =
        if c.DModel % c.Heads <> 0 then
            Error(sprintf "d_model %d must be divisible by the number of heads %d" c.DModel c.Heads)
        elif c.VocabSize <= max c.PadId c.EosId then
            Error "the vocabulary must contain the pad and eos ids"
        elif c.Dropout < 0.0 || c.Dropout >= 1.0 then
            Error "dropout must be in [0, 1)"
        else
            Ok c
