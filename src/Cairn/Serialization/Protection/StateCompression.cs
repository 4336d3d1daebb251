namespace Cairn.Serialization.Protection;

/// <summary>How states, inputs, results and streams are compressed before they are stored (<see cref="CairnOptions.StateCompression"/>).</summary>
public enum StateCompression
{
    /// <summary>Stored as serialized.</summary>
    None = 0,

    /// <summary>
    /// Brotli at quality 1 (System.IO.Compression): on an orders CSV and a JSON state it compressed 3.6–6.9× at 150–370 MB/s
    /// on 2 vCPU, within 4–10 % of zstd 1's ratio at its speed or faster, without a dependency (docs/benchmarks.md).
    /// </summary>
    Brotli = 1,
}
