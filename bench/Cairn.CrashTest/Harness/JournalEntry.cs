namespace Cairn.CrashTest.Harness;

/// <summary>
/// One line of the crash-test journal: a stage that started or a checkpoint that was committed, by a run in an attempt;
/// or an outbox message delivered (<see cref="MessageId"/> set, <see cref="Name"/> the message's key, attempt 0).
/// <paramref name="Line"/> is the line number: the order in which the process that wrote the journal wrote them.
/// </summary>
internal sealed record JournalEntry(int Line, JournalEntryKind Kind, Guid RunId, string Name, int Attempt, Guid? MessageId = null)
{
    public bool IsStage => Kind == JournalEntryKind.Stage;

    public bool IsCommit => Kind == JournalEntryKind.Commit;

    public bool IsDelivery => Kind == JournalEntryKind.Delivery;
}
