namespace Cairn.CrashTest.Chaos;

/// <summary>The payload of the <c>decision</c> signal the load generator sends to a <c>chaos-order</c> run.</summary>
internal sealed record ChaosDecision(bool Approve);
