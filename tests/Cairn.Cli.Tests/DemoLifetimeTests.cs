using System.Diagnostics;
using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Cairn.Cli.Tests;

/// <summary>
/// <c>cairn demo</c> killed while its worker runs: the worker must not outlive it (it would hold the store's lock), and
/// the next demo must start clean, saying what it did with the run the killed demo left behind.
/// </summary>
public sealed class DemoLifetimeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cairn-demo-life-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    [Theory]
    [InlineData("KILL")]
    [InlineData("TERM")]
    public async Task DemoKilled_ItsWorkerDiesToo_AndTheNextDemoCancelsTheLeftRun(string signal)
    {
        var store = Path.Combine(_dir, "cairn.db");
        using var demo = DotnetProgram.Start("Cairn.Cli.dll", "demo", "--store", store, "--orders", "40000");
        await demo.WaitForLineAsync("Process 2");
        await demo.WaitForLineAsync("      batch 2/");
        var workers = ChildrenOf(demo.Id);
        var worker = Assert.Single(workers);

        await StoreWaits.SignalAsync(demo.Id, signal);

        await demo.WaitForExitAsync();
        await WaitUntilGoneAsync(worker);

        var next = await DotnetProgram.RunAsync("Cairn.Cli.dll", _dir, TimeSpan.FromSeconds(120), "demo", "--store", store, "--orders", "300");

        Assert.True(next.ExitCode == 0, $"the next demo failed: {next.Output}\n{next.Errors}");
        Assert.Contains("An earlier demo run", next.Output, StringComparison.Ordinal);
        Assert.Contains("it is cancelled so that this demo starts clean", next.Output, StringComparison.Ordinal);
    }

    private static List<int> ChildrenOf(int pid) =>
    [
        .. Directory.GetDirectories($"/proc/{pid}/task")
            .SelectMany(task => File.ReadAllText(Path.Combine(task, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(child => int.Parse(child, CultureInfo.InvariantCulture)),
    ];

    /// <summary>Gone: no such process, or a zombie that nobody has reaped yet (it holds no lock and runs nothing).</summary>
    private static Task WaitUntilGoneAsync(int pid) => StoreWaits.UntilAsync(
        () => Task.FromResult(ReadState(pid) is 'Z' or 'X' or null), TimeSpan.FromSeconds(15), $"the demo's worker {pid} to die with the demo");

    private static char? ReadState(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0];
        }
        catch (IOException)
        {
            return null;
        }
    }
}
