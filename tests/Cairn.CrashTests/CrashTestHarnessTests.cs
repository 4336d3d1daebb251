namespace Cairn.CrashTests;

/// <summary>
/// Runs the real crash-test harness (bench/Cairn.CrashTest), which kills its own worker processes with SIGKILL, with a bounded
/// number of kills: once as it is, where it must find nothing wrong, and once with <c>--broken</c>, where it sabotages the
/// store and must notice.
/// </summary>
public sealed class CrashTestHarnessTests
{
    // About a minute on a quiet machine; a machine busy with other builds and tests (load 18 on 2 cores) took over three
    // minutes for the same 50 kills. The limit only catches a harness that hangs.
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(8);

    [Fact]
    public async Task CrashTest_FiftyKills_ReportsZeroViolations()
    {
        var (exitCode, output) = await RunCrashTestAsync("--kills", "50", "--runs", "30", "--seed", "4711");

        Assert.True(exitCode == 0, $"exit code {exitCode}\n{output}");
        Assert.Matches(@"(?m)^0 violations in 50 kills", output);
        Assert.Matches(@"kills\s+│ 50 of 50", output);
        Assert.DoesNotContain("not completed", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CrashTest_BrokenMode_ReportsStageRanTwiceAndExitsNonZero()
    {
        var (exitCode, output) = await RunCrashTestAsync("--broken", "--kills", "6", "--runs", "20", "--seed", "4711");

        Assert.True(exitCode == 2, $"exit code {exitCode}\n{output}");
        Assert.Matches(@"(?m)^stage ran twice before a committed recovery point \(\d+\):", output);
        Assert.Matches(@"stage '[\w-]+' \(step \d+\) started in attempt \d+", output);
        Assert.Matches(@"violations: stage ran twice before a committed recovery point\s+│ [1-9]", output);
        Assert.Matches(@"violations: run lost\s+│ 0", output);
    }

    private static async Task<(int ExitCode, string Output)> RunCrashTestAsync(params string[] arguments)
    {
        var (exitCode, output, errors) = await DotnetProgram.RunAsync("Cairn.CrashTest.dll", workingDirectory: null, Patience, arguments);
        return (exitCode, $"{output}\n{errors}");
    }
}
