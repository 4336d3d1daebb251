namespace Cairn.CrashTest.Harness;

/// <summary>What a journal line records.</summary>
internal enum JournalEntryKind
{
    /// <summary><c>S run stage attempt</c>: a stage started.</summary>
    Stage,

    /// <summary><c>C run point attempt</c>: a checkpoint committed.</summary>
    Commit,

    /// <summary><c>D run key message-id</c>: an outbox message was handed to the publisher.</summary>
    Delivery,
}
