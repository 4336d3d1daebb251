using BenchmarkDotNet.Attributes;
using Cairn.Serialization;

namespace Cairn.MicroBench;

/// <summary>
/// What a recovery point does before the store write (see RunAttempt.SaveCheckpointAsync): serialize the state with the
/// default serializer, then take its SHA-256 checksum as lower-case hex.
/// </summary>
[MemoryDiagnoser]
public class CheckpointBenchmarks
{
    private readonly JsonStateSerializer _serializer = new();
    private CheckpointState _state = new();
    private byte[] _bytes = [];

    /// <summary>The state's serialized size in bytes, to the next whole line item.</summary>
    [Params(100, 10 * 1024, 1024 * 1024)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _state = CheckpointState.OfSize(Size);
        _bytes = _serializer.Serialize(_state);
    }

    [Benchmark]
    public byte[] Serialize() => _serializer.Serialize(_state);

    [Benchmark]
    public string Checksum() => Cairn.Serialization.Checksum.Compute(_bytes);

    [Benchmark]
    public string SerializeAndChecksum()
    {
        var bytes = _serializer.Serialize(_state);
        return Cairn.Serialization.Checksum.Compute(bytes);
    }
}
