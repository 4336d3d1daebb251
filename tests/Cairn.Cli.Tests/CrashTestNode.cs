namespace Cairn.Cli.Tests;

/// <summary>The crash test's <c>serve</c> node (bench/Cairn.CrashTest: the tool's <c>cairn serve</c> executing the crash-test flows) as a child process.</summary>
internal static class CrashTestNode
{
    public static RunningProgram Start(params string[] arguments) => DotnetProgram.Start("Cairn.CrashTest.dll", ["serve", .. arguments]);

    /// <summary>Starts a node named <c>node-INDEX</c> with 2 slots, journaling its stages.</summary>
    public static RunningProgram StartJournaled(string store, int index, string journal, string leaseDuration = "3s") => Start(
        "--store", store,
        "--node", $"node-{index}",
        "--max-concurrent-runs", "2",
        "--lease-duration", leaseDuration,
        "--journal", journal);
}
