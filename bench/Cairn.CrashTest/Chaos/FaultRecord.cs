namespace Cairn.CrashTest.Chaos;

/// <summary>A fault as it happened: when it began (seconds from the soak's start), what and where, and how it went.</summary>
/// <param name="Injected">Whether it took effect; false when it could not (no backend to terminate, say), with why in <paramref name="Outcome"/>.</param>
internal sealed record FaultRecord(double At, FaultKind Kind, string Target, bool Injected, string Outcome);
