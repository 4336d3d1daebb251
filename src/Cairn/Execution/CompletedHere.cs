namespace Cairn.Execution;

/// <summary>What an engine hands to the waiters of a run it completed itself: they need not read the store.</summary>
/// <param name="RecoveryId">The run's recovery ID.</param>
/// <param name="Result">The serialized result, as stored.</param>
internal sealed record CompletedHere(string RecoveryId, byte[] Result);
