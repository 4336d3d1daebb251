using System.Buffers.Binary;
using System.Text;
using Cairn.Execution;

namespace Cairn.Tests.Serialization.Fuzzing;

/// <summary>The failures the decoder fuzzing found, each fixed at its cause and kept here as a case of its own.</summary>
public sealed class DecoderRegressionTests
{
    [Theory]
    [InlineData("parallel envelope", 12_000_027)] // A length of about 2 GB: BinaryReader.ReadBytes allocated it (a hang, then out of memory).
    [InlineData("compensation log", 12_000_018)] // An entry whose "iterations" name was damaged: read as null, a NullReferenceException later.
    public void Decode_SeedTheFuzzingFound_RaisesItsTypedError(string decoder, int seed)
    {
        var target = FuzzTargets.Named(decoder);
        var (original, input) = FuzzInput.Make(seed, target.Valid);

        var error = Record.Exception(() => target.Decode(original, input));

        Assert.NotNull(error);
        Assert.True(target.IsExpected(error), $"{error.GetType().Name}: {error.Message}");
    }

    [Fact]
    public void ReadEnvelope_SliceLengthOfTwoGigabytes_IsFormatExceptionWithoutAllocatingIt()
    {
        var bytes = Envelope(out var stateLengthAt);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(stateLengthAt), int.MaxValue);

        var error = Assert.Throws<FormatException>(() => ParallelEnvelope.Read(bytes));

        Assert.Contains("expected 2,147,483,647 bytes", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(-1)]
    public void ReadEnvelope_BranchCountBeyondTheBytesLeft_IsFormatException(int count)
    {
        var bytes = Envelope(out var stateLengthAt);
        var countAt = stateLengthAt + 4 + BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(stateLengthAt));
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(countAt), count);

        var error = Assert.Throws<FormatException>(() => ParallelEnvelope.Read(bytes));

        Assert.Contains($"it claims {count:N0} branches", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadEnvelope_UnknownBranchStatus_IsFormatException()
    {
        var bytes = Envelope(out _);
        var statusAt = bytes.Length - 4 - 1 - 1; // Before the position (one byte: empty) and the empty slice (its length).
        Assert.Equal((byte)BranchStatus.InProgress, bytes[statusAt]);
        bytes[statusAt] = 7;

        var error = Assert.Throws<FormatException>(() => ParallelEnvelope.Read(bytes));

        Assert.Equal("branch 'b' has the unknown status 7", error.Message);
    }

    [Theory]
    [InlineData("""{"done":[{"stage":"reserve"}]}""")]
    [InlineData("""{"done":[{"iterations":[1]}]}""")]
    [InlineData("""{"done":[null]}""")]
    public void ParseCompensationLog_EntryWithoutStageOrIterations_IsFormatException(string text)
    {
        var error = Assert.Throws<FormatException>(() => CompensationLog.Parse(text));

        Assert.Contains("its entry 0 lacks its stage or its iterations", error.Message, StringComparison.Ordinal);
    }

    /// <summary>An envelope with one branch 'b' in progress at the start with an empty slice; where its state's length is.</summary>
    private static byte[] Envelope(out int stateLengthAt)
    {
        var bytes = new ParallelEnvelope
        {
            Parallel = "p",
            State = Encoding.UTF8.GetBytes("{}"),
            Branches = [new BranchFrame { Name = "b", Status = BranchStatus.InProgress, Position = default, Slice = [] }],
        }.ToBytes();
        stateLengthAt = 1 + "cairn.parallel.v1".Length + 1 + 1;
        Assert.Equal(2, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(stateLengthAt)));
        return bytes;
    }
}
