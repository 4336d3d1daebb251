using Cairn.Runs;
namespace Cairn.CrashTest.Harness;

/// <summary>
/// One line of the crash-test journal: a stage that started, or a checkpoint that was committed, by a run in an attempt.
/// <paramref name="Line"/> is the line number: the order in which the workers wrote them.
/// </summary>
internal sealed record JournalEntry(int Line, bool IsCommit, Guid RunId, string Name, int Attempt);
