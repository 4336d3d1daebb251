namespace Cairn.Serialization.Protection;

/// <summary>How states, inputs, results and streams are compressed before they are stored (<see cref="CairnOptions.StateCompression"/>).</summary>
public enum StateCompression
{
    /// <summary>Stored as serialized.</summary>
    None = 0,

    /// <summary>
    /// Brotli at quality 1 (System.IO.Compression): on an orders CSV and a JSON state it compressed 3.6–6.9× at 150–370 MB/s
    /// on 2 vCPU, within 5–10 % of zstd's ratio at zstd's speed, without a dependency (docs/benchmarks.md).
    /// </summary>
    Brotli = 1,
}
