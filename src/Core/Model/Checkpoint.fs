namespace Masking.Model

open System
open System.Buffers.Binary
open System.Collections.Generic
open System.IO
open System.Text
open System.Text.Json
open System.Text.Json.Nodes
open Masking
open TorchSharp

/// Named float32 tensors plus string metadata in one safetensors file, the format Hugging Face's
/// `save_pretrained` writes: tensors are written and read by TorchSharp.PyBridge, and the metadata goes in
/// the header's `__metadata__` (always with `"format": "pt"`, which Hugging Face's loaders check). PyBridge
/// writes no metadata and reads none, so `save` adds it to PyBridge's header and `meta` reads the header alone
/// (an 8-byte length and JSON; a tensor is never read by hand). Written to a temporary name and renamed.
module Checkpoint =
    let private metadataKey = "__metadata__"

    /// The header length a file may claim: safetensors' own limit (100 MB), so that a damaged length is an
    /// error rather than an allocation of gigabytes.
    let private maxHeader = 100_000_000L

    let private readHeader (path: string) : Result<JsonObject * int64, string> =
        try
            use f = File.OpenRead path
            let prefix = Array.zeroCreate<byte> 8

            if f.Read(prefix, 0, 8) < 8 then
                Error(sprintf "%s:0: the checkpoint is truncated (expected a safetensors file)" path)
            else
                let length = BinaryPrimitives.ReadInt64LittleEndian(ReadOnlySpan prefix)

                if length <= 0L || length > maxHeader || 8L + length > f.Length then
                    Error(sprintf "%s:0: expected a safetensors file (its header length %d does not fit)" path length)
                else
                    let header = Array.zeroCreate<byte> (int length)
                    f.ReadExactly(header, 0, header.Length)

                    match JsonNode.Parse(ReadOnlySpan header) with
                    | :? JsonObject as o -> Ok(o, 8L + length)
                    | _ -> Error(sprintf "%s:0: expected a safetensors header (a JSON object)" path)
        with
        | :? EndOfStreamException -> Error(sprintf "%s:0: the checkpoint is truncated" path)
        | :? IOException as e -> Error(sprintf "%s:0: cannot read the checkpoint (%s)" path e.Message)
        | :? JsonException as e -> Error(sprintf "%s:0: the checkpoint header is not valid JSON (%s)" path e.Message)

    let private metaOf (header: JsonObject) : Map<string, string> =
        match header[metadataKey] with
        | :? JsonObject as m ->
            [ for kv in m do
                  match kv.Value with
                  | :? JsonValue as v when v.GetValueKind() = JsonValueKind.String -> yield kv.Key, v.GetValue<string>()
                  | _ -> () ]
            |> Map.ofList
        | _ -> Map.empty

    let save (path: string) (tensors: (string * torch.Tensor) list) (meta: Map<string, string>) =
        let dir = Path.GetDirectoryName(Path.GetFullPath path)
        Directory.CreateDirectory dir |> ignore
        let raw = AtomicFile.tempFor (path + ".tensors")
        let tmp = AtomicFile.tempFor path

        do
            // The chain's temporaries stay held until the file is written (see Scalars).
            use _ = torch.NewDisposeScope()
            let state = Dictionary<string, torch.Tensor>()

            for name, t in tensors do
                state[name] <- t.detach().cpu().contiguous().to_type torch.float32

            TorchSharp.PyBridge.Safetensors.SaveStateDict(raw, state)

        match readHeader raw with
        | Error e -> failwithf "PyBridge wrote an unreadable safetensors file: %s" e
        | Ok(header, dataStart) ->
            let metadata = JsonObject()
            metadata["format"] <- JsonValue.Create "pt"

            for KeyValue(k, v) in meta do
                if k <> "format" then
                    metadata[k] <- JsonValue.Create v

            // The metadata first, then the tensors in PyBridge's order (their offsets are relative to the data,
            // which is copied unchanged).
            let patched = JsonObject()
            patched[metadataKey] <- metadata

            for kv in List.ofSeq header do
                if kv.Key <> metadataKey then
                    header.Remove kv.Key |> ignore
                    patched[kv.Key] <- kv.Value

            let text = patched.ToJsonString()
            // Padded with spaces to a multiple of 8, as the safetensors library does, so the data stays aligned.
            let padded = text + String(' ', (8 - Encoding.UTF8.GetByteCount text % 8) % 8)
            let bytes = Encoding.UTF8.GetBytes padded

            do
                use source = File.OpenRead raw
                use f = new FileStream(tmp, FileMode.Create, FileAccess.Write)
                let length = Array.zeroCreate<byte> 8
                BinaryPrimitives.WriteInt64LittleEndian(Span length, int64 bytes.Length)
                f.Write(length, 0, 8)
                f.Write(bytes, 0, bytes.Length)
                source.Position <- dataStart
                source.CopyTo f
                f.Flush true

            File.Delete raw
            AtomicFile.commit tmp path

    /// The metadata of a checkpoint alone (its header), without reading a tensor.
    let meta (path: string) : Result<Map<string, string>, string> =
        readHeader path |> Result.map (fst >> metaOf)

    /// Reads a checkpoint: float32 tensors by name (on the given device) and the metadata.
    let load (path: string) (device: torch.Device) : Result<Map<string, torch.Tensor> * Map<string, string>, string> =
        match readHeader path with
        | Error e -> Error e
        | Ok(header, dataStart) ->
            // PyBridge reads what the header promises; a file cut short is an error here rather than there.
            let dataEnd =
                header
                |> Seq.filter (fun kv -> kv.Key <> metadataKey)
                |> Seq.map (fun kv ->
                    match kv.Value with
                    | :? JsonObject as e ->
                        match e["data_offsets"] with
                        | :? JsonArray as o when o.Count = 2 -> o[1].GetValue<int64>()
                        | _ -> Int64.MaxValue
                    | _ -> Int64.MaxValue)
                |> Seq.fold max 0L

            if dataEnd = Int64.MaxValue then
                Error(sprintf "%s:0: expected data_offsets for every tensor in the safetensors header" path)
            elif dataStart + dataEnd > FileInfo(path).Length then
                Error(sprintf "%s:0: the checkpoint is truncated (its header promises %d bytes of data)" path dataEnd)
            else
                try
                    use _ = torch.NewDisposeScope()
                    let state = TorchSharp.PyBridge.Safetensors.LoadStateDict path

                    let tensors =
                        [ for KeyValue(name, t) in state do
                              if not (t.is_floating_point ()) then
                                  failwithf "tensor %s is %O, expected float32" name t.dtype

                              yield name, t.to_type(torch.float32).``to``(device).MoveToOuterDisposeScope() ]
                        |> Map.ofList

                    Ok(tensors, metaOf header)
                with
                | :? IOException as e -> Error(sprintf "%s:0: cannot read the checkpoint (%s)" path e.Message)
                | Failure msg -> Error(sprintf "%s:0: %s" path msg)
                | e ->
                    Error(
                        sprintf "%s:0: cannot read the checkpoint's tensors (%s: %s)" path (e.GetType().Name) e.Message
                    )
