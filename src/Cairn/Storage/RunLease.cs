namespace Cairn.Storage;

/// <summary>An engine's ownership of a running run. Every write it makes is fenced by <paramref name="Epoch"/>.</summary>
/// <param name="RunId">The owned run.</param>
/// <param name="Owner">The owning node's name.</param>
/// <param name="Epoch">The run's fencing counter at the claim.</param>
public sealed record RunLease(RunId RunId, string Owner, long Epoch);
