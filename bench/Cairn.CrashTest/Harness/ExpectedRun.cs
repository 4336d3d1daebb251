namespace Cairn.CrashTest.Harness;

/// <summary>A run the harness asked for: its recovery ID, flow and input, from which its final state follows.</summary>
internal sealed record ExpectedRun(string RecoveryId, CrashFlowPlan Plan, CrashState Input);
