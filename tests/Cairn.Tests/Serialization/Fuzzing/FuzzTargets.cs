using System.Text;
using Cairn.Execution;
using Cairn.Flows;
using Cairn.Serialization;
using Cairn.Storage;

namespace Cairn.Tests.Serialization.Fuzzing;

/// <summary>
/// Every decoder of stored bytes or text, with the typed errors it may raise for damaged input:
/// <list type="bullet">
/// <item>checkpoint state — <see cref="StateCodec.Deserialize{T}"/> with the default serializer, as a resume reads a checkpoint's state: <see cref="StateSerializationException"/>;</item>
/// <item>parallel envelope — <see cref="ParallelEnvelope.Read"/>: <see cref="FormatException"/>;</item>
/// <item>compensation log — <see cref="CompensationLog.Parse"/>: <see cref="FormatException"/>;</item>
/// <item>stream manifest — <see cref="StreamManifest.Parse"/>: <see cref="FormatException"/>;</item>
/// <item>flow path — <see cref="FlowPath.Parse"/>: <see cref="FormatException"/>;</item>
/// <item>verified read stream — <see cref="VerifiedReadStream"/> over stored content: <see cref="StreamCorruptedException"/>, for every change of the content;</item>
/// <item>spilled state — <see cref="StateSpill.DeserializeAsync{T}"/>, a state over the spill threshold read from the stream store as a resume reads it: <see cref="StateSerializationException"/> or <see cref="StreamCorruptedException"/>, for every change of the content.</item>
/// </list>
/// Text decoders get the damaged bytes as UTF-8 text, as a store hands them out.
/// </summary>
internal static class FuzzTargets
{
    private static readonly StateCodec Codec = new(new JsonStateSerializer(), 256L * 1024 * 1024);

    public static IReadOnlyList<FuzzTarget> All { get; } =
    [
        new("checkpoint state", nameof(StateSerializationException), ValidState, (_, input) => Codec.Deserialize<FuzzState>(input, "The checkpoint of run x"), ex => ex is StateSerializationException),
        new("parallel envelope", nameof(FormatException), ValidEnvelope, (_, input) => Touch(ParallelEnvelope.Read(input)), ex => ex is FormatException),
        new("compensation log", nameof(FormatException), ValidCompensationLog, (_, input) => Touch(CompensationLog.Parse(Text(input))), ex => ex is FormatException),
        new("stream manifest", nameof(FormatException), ValidManifest, (_, input) => Touch(StreamManifest.Parse(Text(input))), ex => ex is FormatException),
        new("flow path", nameof(FormatException), ValidPath, (_, input) => FlowPath.Parse(Text(input)).ToString(), ex => ex is FormatException),
        new("verified read stream", nameof(StreamCorruptedException), Content, ReadVerified, ex => ex is StreamCorruptedException),
        new("spilled state", $"{nameof(StateSerializationException)}, {nameof(StreamCorruptedException)}", ValidState, ReadSpilled, ex => ex is StateSerializationException or StreamCorruptedException),
    ];

    /// <summary>The target of a name.</summary>
    public static FuzzTarget Named(string name) => All.Single(t => t.Name == name);

    private static string Text(byte[] input) => Encoding.UTF8.GetString(input);

    private static string Word(Random random) => new([.. Enumerable.Range(0, random.Next(1, 12)).Select(_ => (char)random.Next('a', 'z' + 1))]);

    private static FlowPath Path(Random random) =>
        FlowPath.Of([.. Enumerable.Range(0, random.Next(0, 6)).Select(_ => random.Next(4) == 0 ? -random.Next(1, 3) : random.Next(20))]);

    private static byte[] ValidState(Random random) => Codec.Serialize(
        new FuzzState
        {
            Name = random.Next(4) == 0 ? null : Word(random),
            Count = random.Next(),
            Ratio = random.NextDouble(),
            At = DateTimeOffset.UnixEpoch.AddSeconds(random.Next()),
            Lines = [.. Enumerable.Range(0, random.Next(4)).Select(_ => new FuzzLine(Word(random), random.Next(100), random.Next(100_000) / 100m))],
            Totals = Enumerable.Range(0, random.Next(3)).ToDictionary(i => $"{Word(random)}{i}", _ => random.NextInt64()),
            Blob = random.Next(2) == 0 ? null : [.. Enumerable.Range(0, random.Next(16)).Select(_ => (byte)random.Next(256))],
        },
        "the fuzzed state",
        "");

    private static byte[] ValidEnvelope(Random random) => new ParallelEnvelope
    {
        Parallel = Word(random),
        State = ValidState(random),
        Branches = [.. Enumerable.Range(0, random.Next(4)).Select(_ => new BranchFrame
        {
            Name = Word(random),
            Status = (BranchStatus)random.Next(3),
            Position = Path(random),
            Slice = ValidState(random),
        })],
    }.ToBytes();

    private static byte[] ValidCompensationLog(Random random)
    {
        var log = CompensationLog.Empty();
        for (var n = random.Next(1, 4); n > 0; n--)
        {
            log.Record(Word(random), [.. Enumerable.Range(0, random.Next(3)).Select(_ => random.Next(10))]);
        }

        if (random.Next(2) == 0)
        {
            log.StartUndoing(Word(random));
        }

        return Encoding.UTF8.GetBytes(log.ToText()!);
    }

    private static byte[] ValidManifest(Random random)
    {
        var streams = Enumerable.Range(0, random.Next(1, 4)).ToDictionary(
            i => $"{Word(random)}{i}.csv",
            _ => new StoredStream(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes(random.Next()))), random.NextInt64(1L << 40)));
        return Encoding.UTF8.GetBytes(StreamManifest.ToText(streams)!);
    }

    private static byte[] ValidPath(Random random) => Encoding.UTF8.GetBytes(Path(random).ToString());

    private static byte[] Content(Random random)
    {
        var bytes = new byte[random.Next(4097)];
        random.NextBytes(bytes);
        return bytes;
    }

    /// <summary>Reads <paramref name="stored"/> as if it were <paramref name="saved"/>, in chunks of varying size: it must come out whole, or fail.</summary>
    private static void ReadVerified(byte[] saved, byte[] stored)
    {
        var expected = new StoredStream(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(saved)), saved.Length);
        var chunks = new Random(stored.Length);
        using var stream = new VerifiedReadStream(new MemoryStream(stored, writable: false), expected, "Stream 'fuzz'");
        var read = new MemoryStream();
        var buffer = new byte[1024];
        int n;
        while ((n = stored.Length % 2 == 0
            ? stream.Read(buffer, 0, chunks.Next(1, buffer.Length + 1))
            : stream.ReadAsync(buffer.AsMemory(0, chunks.Next(1, buffer.Length + 1))).AsTask().GetAwaiter().GetResult()) > 0)
        {
            read.Write(buffer, 0, n);
        }

        if (!read.ToArray().AsSpan().SequenceEqual(saved))
        {
            throw new FuzzPropertyException($"content of {stored.Length} bytes read as the saved {saved.Length} bytes without an error");
        }
    }

    /// <summary>Reads <paramref name="stored"/> as the spilled state <paramref name="saved"/> was: it must come out as that state, or fail.</summary>
    private static void ReadSpilled(byte[] saved, byte[] stored)
    {
        var spilled = new StoredStream(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(saved)), saved.Length);
        var state = StateSpill.DeserializeAsync<FuzzState>(Codec, new StoredContent(stored), spilled, "run x", "", CancellationToken.None).GetAwaiter().GetResult();
        if (!stored.AsSpan().SequenceEqual(saved) || !Codec.Serializer.Serialize(state).AsSpan().SequenceEqual(saved))
        {
            throw new FuzzPropertyException($"a spilled state of {stored.Length} bytes read as the saved {saved.Length} bytes without an error");
        }
    }

    private static void Touch(ParallelEnvelope envelope)
    {
        foreach (var branch in envelope.Branches)
        {
            _ = $"{branch.Name} {branch.Status} {branch.Position} {branch.Slice.Length}";
        }
    }

    private static void Touch(CompensationLog log)
    {
        foreach (var entry in log.Entries)
        {
            _ = entry.ToString();
            _ = entry.GetHashCode();
        }

        _ = log.ToText();
    }

    private static void Touch(IReadOnlyDictionary<string, StoredStream> streams)
    {
        foreach (var (name, stream) in streams)
        {
            _ = $"{name} {stream}";
        }
    }

    /// <summary>A stream store that holds one content, whatever it is asked for: damaged content under the saved content's name.</summary>
    private sealed class StoredContent(byte[] content) : IStreamStore
    {
        public Task<Stream> OpenReadAsync(StoredStream stream, CancellationToken cancellationToken) => Task.FromResult<Stream>(new MemoryStream(content, writable: false));

        public Task<StoredStream> WriteAsync(Stream content, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<bool> TouchAsync(StoredStream stream, CancellationToken cancellationToken) => throw new NotSupportedException();

        public IAsyncEnumerable<StoredStream> ListUntouchedAsync(DateTimeOffset untouchedSince, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<bool> DeleteAsync(StoredStream stream, DateTimeOffset untouchedSince, CancellationToken cancellationToken) => throw new NotSupportedException();
    }

    internal sealed class FuzzState
    {
        public string? Name { get; set; }

        public int Count { get; set; }

        public double Ratio { get; set; }

        public DateTimeOffset At { get; set; }

        public List<FuzzLine>? Lines { get; set; }

        public Dictionary<string, long>? Totals { get; set; }

        public byte[]? Blob { get; set; }
    }

    internal sealed record FuzzLine(string Sku, int Quantity, decimal Price);
}
