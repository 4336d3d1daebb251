namespace Cairn.CrashTest.Harness;

/// <summary>A run event as the checkers read it from the store, in the store's order (<paramref name="Id"/>).</summary>
/// <param name="Point">The recovery point it is about, where it is about one.</param>
internal sealed record StoredEvent(Guid RunId, long Id, int Kind, int Attempt, string Message, string? Point);
