namespace Cairn.CrashTest.Harness;

/// <summary>One step of a crash-test flow as the flow's builder lays it out: a stage or a recovery point.</summary>
internal sealed record CrashStep(string Name, bool IsRecoveryPoint, StageWork Work = StageWork.Plain)
{
    public static CrashStep Stage(string name, StageWork work) => new(name, false, work);

    public static CrashStep Point(string name) => new(name, true);
}
