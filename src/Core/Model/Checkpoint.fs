namespace Masking.Model

open System
open System.IO
open System.Text
open System.Text.Json
open TorchSharp

/// Named float32 tensors plus a JSON object of metadata in one file: "MASKCKPT1\n", an 8-byte header length,
/// the JSON header (names, shapes, offsets, metadata), then raw little-endian float32 data. Python reads it
/// with struct and numpy (the parity test does). Written to a temporary name and renamed.
module Checkpoint =
    let private magic = Encoding.ASCII.GetBytes "MASKCKPT1\n"

    let save (path: string) (tensors: (string * torch.Tensor) list) (meta: Map<string, string>) =
        let dir = Path.GetDirectoryName(Path.GetFullPath path)
        Directory.CreateDirectory dir |> ignore

        let arrays =
            // The chain's temporaries stay held until the copies are made (see Scalars).
            use _ = torch.NewDisposeScope()

            tensors
            |> List.map (fun (name, t) ->
                let c = t.detach().cpu().contiguous().to_type torch.float32
                name, c.shape, c.data<float32>().ToArray())

        let mutable offset = 0L

        let entries =
            arrays
            |> List.map (fun (name, shape, data) ->
                let e =
                    {| name = name
                       shape = shape
                       offset = offset
                       count = data.LongLength |}

                offset <- offset + 4L * data.LongLength
                e)

        let header =
            JsonSerializer.SerializeToUtf8Bytes({| tensors = entries; meta = meta |})

        let tmp = path + ".tmp"

        do
            use f = new FileStream(tmp, FileMode.Create, FileAccess.Write)
            use w = new BinaryWriter(f)
            w.Write magic
            w.Write(int64 header.Length)
            w.Write header

            for _, _, data in arrays do
                let bytes = Array.zeroCreate<byte> (data.Length * 4)
                Buffer.BlockCopy(data, 0, bytes, 0, bytes.Length)
                w.Write bytes

            w.Flush()
            f.Flush true

        File.Move(tmp, path, true)

    /// The metadata of a checkpoint alone (its header), without reading a tensor.
    let meta (path: string) : Result<Map<string, string>, string> =
        try
            use f = File.OpenRead path
            use r = new BinaryReader(f)

            if r.ReadBytes magic.Length <> magic then
                Error(sprintf "%s:0: expected a Masking checkpoint (MASKCKPT1)" path)
            else
                let headerLength = r.ReadInt64()
                use doc = JsonDocument.Parse(r.ReadBytes(int headerLength))

                Ok(
                    [ for p in doc.RootElement.GetProperty("meta").EnumerateObject() -> p.Name, p.Value.GetString() ]
                    |> Map.ofList
                )
        with
        | :? EndOfStreamException -> Error(sprintf "%s:0: the checkpoint is truncated" path)
        | :? IOException as e -> Error(sprintf "%s:0: cannot read the checkpoint (%s)" path e.Message)
        | :? JsonException as e -> Error(sprintf "%s:0: the checkpoint header is not valid JSON (%s)" path e.Message)

    /// Reads a checkpoint: tensors by name (on the given device) and the metadata.
    let load (path: string) (device: torch.Device) : Result<Map<string, torch.Tensor> * Map<string, string>, string> =
        try
            use f = File.OpenRead path
            use r = new BinaryReader(f)
            let m = r.ReadBytes magic.Length

            if m <> magic then
                Error(sprintf "%s:0: expected a Masking checkpoint (MASKCKPT1)" path)
            else
                let headerLength = r.ReadInt64()
                use doc = JsonDocument.Parse(r.ReadBytes(int headerLength))
                let start = f.Position

                let meta =
                    [ for p in doc.RootElement.GetProperty("meta").EnumerateObject() -> p.Name, p.Value.GetString() ]
                    |> Map.ofList

                use _ = torch.NewDisposeScope()

                let tensors =
                    [ for e in doc.RootElement.GetProperty("tensors").EnumerateArray() do
                          let name = e.GetProperty("name").GetString()
                          let shape = [| for s in e.GetProperty("shape").EnumerateArray() -> s.GetInt64() |]
                          let count = e.GetProperty("count").GetInt64()
                          f.Position <- start + e.GetProperty("offset").GetInt64()
                          let bytes = r.ReadBytes(int (count * 4L))

                          if int64 bytes.Length <> count * 4L then
                              failwithf "tensor %s is truncated" name

                          let data = Array.zeroCreate<float32> (int count)
                          Buffer.BlockCopy(bytes, 0, data, 0, bytes.Length)

                          yield
                              name,
                              torch
                                  .tensor(data, dimensions = ReadOnlySpan shape)
                                  .``to``(device)
                                  .MoveToOuterDisposeScope() ]
                    |> Map.ofList

                Ok(tensors, meta)
        with
        | :? EndOfStreamException -> Error(sprintf "%s:0: the checkpoint is truncated" path)
        | :? IOException as e -> Error(sprintf "%s:0: cannot read the checkpoint (%s)" path e.Message)
        | :? JsonException as e -> Error(sprintf "%s:0: the checkpoint header is not valid JSON (%s)" path e.Message)
        | Failure msg -> Error(sprintf "%s:0: %s" path msg)
