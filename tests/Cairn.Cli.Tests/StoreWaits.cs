using System.Diagnostics;
using Cairn.CrashTest.Harness;

namespace Cairn.Cli.Tests;

/// <summary>Helpers of the node tests: awaiting a store state on a timer with a deadline, and reading the nodes' journals.</summary>
internal static class StoreWaits
{
    /// <inheritdoc cref="Waits.UntilAsync" />
    public static Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what) => Waits.UntilAsync(condition, timeout, what);

    /// <summary>Sends a signal (STOP, CONT, ...) to a process with the kill command.</summary>
    public static async Task SignalAsync(int pid, string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(0, kill.ExitCode);
    }

    /// <summary>
    /// Attempts of a run only grow, so a stage that started in a later attempt than the commit of a recovery point after it
    /// ran again behind that point; the journals of different nodes need no common order.
    /// </summary>
    public static void AssertNoCommittedStageRanAgain(Dictionary<Guid, CrashFlowPlan> plans, IEnumerable<string> journals)
    {
        var entries = journals.SelectMany(path => CrashJournal.Read(path).Entries).ToList();
        Assert.Contains(entries, e => e.IsCommit);
        var violations = new List<string>();
        foreach (var run in entries.GroupBy(e => e.RunId))
        {
            var plan = plans[run.Key];
            var commits = run.Where(e => e.IsCommit && plan.IndexOf(e.Name) >= 0).ToList();
            foreach (var start in run.Where(e => e.IsStage))
            {
                var index = plan.IndexOf(start.Name);
                violations.AddRange(commits
                    .Where(commit => commit.Attempt < start.Attempt && plan.IndexOf(commit.Name) > index)
                    .Select(commit => $"run {run.Key} ({plan.Name}): stage '{start.Name}' started in attempt {start.Attempt} after '{commit.Name}' was committed in attempt {commit.Attempt}"));
            }
        }

        Assert.Empty(violations);
    }
}
