using Cairn.Bench.Workloads;

namespace Cairn.Bench;

/// <summary>
/// The load generator: <c>dotnet run -c Release --project bench/Cairn.Bench -- WORKLOAD [options]</c>.
/// Each workload prints a table and, with <c>--json FILE</c>, writes its results.
/// </summary>
public static class BenchProgram
{
    /// <summary>Parses the arguments, runs the workload they name and returns the exit code.</summary>
    /// <param name="args">The workload and its options, for example <c>latency --runs 1000 --json latency.json</c>.</param>
    public static async Task<int> RunAsync(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        const string Description = "Cairn load generator: latency, throughput, recovery, size and memory workloads on a store; fuzzing of the decoders";

        var workloads = new RootCommand(Description);
        workloads.Add(LatencyWorkload.CreateCommand());
        workloads.Add(ThroughputWorkload.CreateCommand());
        workloads.Add(RecoveryWorkload.CreateCommand());
        workloads.Add(TakeoverWorkload.CreateCommand());
        workloads.Add(SizeWorkload.CreateCommand());
        workloads.Add(MemoryWorkload.CreateCommand());
        workloads.Add(PurchaseWorkload.CreateCommand());
        workloads.Add(CompressionWorkload.CreateCommand());
        workloads.Add(FuzzWorkload.CreateCommand());
        workloads.Add(RecoveryChild.CreateCommand());
        workloads.Add(ThroughputNode.CreateCommand());
        workloads.Add(MemoryChild.CreateCommand());
        if (Console.IsOutputRedirected)
        {
            // Piped into a file: no colours, and no wrapping of tables at an assumed 80 columns.
            AnsiConsole.Profile.Width = 200;
            AnsiConsole.Profile.Capabilities.Ansi = false;
        }

        try
        {
            return await workloads.Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (OperationCanceledException)
        {
            await Console.Error.WriteLineAsync("bench: cancelled");
            return 130;
        }
        catch (Exception ex) when (ex is CairnException or IOException or ArgumentException or InvalidOperationException or NotSupportedException
            or TimeoutException or UnauthorizedAccessException || ex.GetType().Name == "SqliteException")
        {
            await Console.Error.WriteLineAsync($"bench: {ex.Message}");
            return 1;
        }
    }
}
