using Cairn.Flows;
using Cairn.Runs;
using Cairn.Storage;

namespace Cairn.Tests.Runs;

public sealed class CheckpointChoiceTests
{
    private static readonly RunId Run = RunId.New();

    // Newest first, as the stores list them: the point "b" was passed twice.
    private static readonly CheckpointSummary[] Kept = [Summary(4, "b"), Summary(3, "a"), Summary(2, "b")];

    [Fact]
    public void Choose_NoChoice_TakesTheNewest() =>
        Assert.Equal(4, CheckpointChoice.Choose(Run, Kept, new RerunOptions()).Sequence);

    [Fact]
    public void Choose_RecoveryPointPassedTwice_TakesItsLatestPass() =>
        Assert.Equal(4, CheckpointChoice.Choose(Run, Kept, new RerunOptions { RecoveryPoint = "b" }).Sequence);

    [Fact]
    public void Choose_Sequence_TakesThatCheckpoint() =>
        Assert.Equal(3, CheckpointChoice.Choose(Run, Kept, new RerunOptions { CheckpointSequence = 3 }).Sequence);

    [Theory]
    [InlineData("c", null, "keeps no checkpoint at recovery point 'c'; its kept checkpoints, newest first, are #4 'b', #3 'a', #2 'b'.")]
    [InlineData(null, 7L, "keeps no checkpoint 7; its kept checkpoints, newest first, are #4 'b', #3 'a', #2 'b'.")]
    public void Choose_NotKept_ThrowsNamingWhatWasAskedAndWhatIsKept(string? point, long? sequence, string expected)
    {
        var error = Assert.Throws<CheckpointNotFoundException>(() =>
            CheckpointChoice.Choose(Run, Kept, new RerunOptions { RecoveryPoint = point, CheckpointSequence = sequence }));

        Assert.StartsWith($"Run {Run} {expected}", error.Message, StringComparison.Ordinal);
        Assert.Equal(Kept, error.Kept);
    }

    [Fact]
    public void Choose_NoCheckpointKept_ThrowsSayingSo()
    {
        var error = Assert.Throws<CheckpointNotFoundException>(() => CheckpointChoice.Choose(Run, [], new RerunOptions()));

        Assert.Equal($"Run {Run} keeps no checkpoint: it keeps no checkpoints at all (it has passed no recovery point, or it completed).", error.Message);
    }

    [Fact]
    public void Choose_PointAndSequence_IsRefused()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            CheckpointChoice.Choose(Run, Kept, new RerunOptions { RecoveryPoint = "a", CheckpointSequence = 3 }));

        Assert.Equal("options", error.ParamName);
        Assert.StartsWith("Choose the checkpoint either by recovery point or by sequence number, not both.", error.Message, StringComparison.Ordinal);
    }

    private static CheckpointSummary Summary(long sequence, string point) =>
        new(sequence, FlowPath.Of((int)sequence), point, null, "checksum", DateTimeOffset.UnixEpoch, 10);
}
