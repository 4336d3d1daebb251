using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Cairn.Cli.CrashTesting;
using Cairn.Diagnostics;
using Microsoft.Extensions.Logging;
using OrderImport;

namespace Cairn.Cli.Commands;

/// <summary>
/// <c>cairn serve --store STORE</c>: a headless worker node that executes the flows this tool knows (the order-import
/// sample and the crash-test flows) until SIGINT or SIGTERM, then stops gracefully.
/// </summary>
internal static class ServeCommand
{
    public const string Name = "serve";

    public static Command Create()
    {
        var store = StoreOption.Create();
        var node = new Option<string?>("--node") { Description = "The node's name, shown as the owner of the runs it executes (default: machine, process ID and a random suffix)" };
        var maxConcurrentRuns = new Option<int?>("--max-concurrent-runs") { Description = "The most runs executed at once (default 64)" };
        var leaseDuration = new Option<string?>("--lease-duration") { Description = "How long a claimed run stays this node's without a heartbeat, for example 30s (default 30s)" };
        var journal = new Option<string?>("--journal") { Description = "Append a line per stage start and committed recovery point to this file (for crash tests)", Hidden = true };
        var command = new Command(Name, "Run a worker node: execute due runs of the known flows until Ctrl+C or SIGTERM")
        {
            store, node, maxConcurrentRuns, leaseDuration, journal,
        };
        command.SetAction(async (parse, ct) =>
        {
            var storeValue = parse.GetRequiredValue(store);
            var lease = parse.GetValue(leaseDuration) is { } text ? Duration.Parse(text) : (TimeSpan?)null;
            using var loggerFactory = LoggerFactory.Create(logging => logging
                .SetMinimumLevel(LogLevel.Information)
                .AddSimpleConsole(console =>
                {
                    console.SingleLine = true;
                    console.TimestampFormat = "HH:mm:ss ";
                    console.UseUtcTimestamp = true;
                }));
            using var journalFile = parse.GetValue(journal) is { } journalPath ? new CrashJournal(journalPath) : null;
            using var listener = journalFile is null ? null : Listen(journalFile);

            var builder = StoreOption.UseStore(CairnEngine.CreateBuilder(), storeValue)
                .UseLoggerFactory(loggerFactory)
                .AddFlow(OrderImportFlow.Create(new OrderImportOptions()))
                .Configure(options =>
                {
                    options.NodeName = parse.GetValue(node);
                    if (parse.GetValue(maxConcurrentRuns) is { } max)
                    {
                        options.MaxConcurrentRuns = max;
                    }

                    if (lease is { } duration)
                    {
                        options.LeaseDuration = duration;
                    }
                });
            foreach (var plan in CrashFlowMix.Plans)
            {
                builder.AddFlow(plan.Build((_, _) => Task.CompletedTask));
            }

            await using var engine = builder.Build();
            var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            void OnSignal(PosixSignalContext context)
            {
                // Stop gracefully instead of being terminated: running stages get the engine's shutdown timeout.
                context.Cancel = true;
                stop.TrySetResult();
            }

            using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
            using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
            await engine.StartAsync(ct);
            Say(string.Create(CultureInfo.InvariantCulture,
                $"cairn serve: node {engine.NodeName} serving {engine.Flows.Count} flow(s) from {StoreOption.Describe(storeValue)}; Ctrl+C to stop"));

            await stop.Task.WaitAsync(ct);
            await engine.StopAsync(CancellationToken.None);
            Say($"cairn serve: node {engine.NodeName} stopped");
            return 0;
        });
        return command;
    }

    private static ActivityListener Listen(CrashJournal journal)
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == Telemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStarted = activity =>
            {
                if (activity.OperationName == Telemetry.StageActivity)
                {
                    // Written before the stage runs: a stage that ran is in the journal even if the node was killed at once.
                    journal.StageStarted(Tag(activity, Telemetry.RunIdTag), Tag(activity, Telemetry.StageTag), Attempt(activity));
                }
            },
            ActivityStopped = activity =>
            {
                if (activity.OperationName == Telemetry.CheckpointActivity && activity.Status == ActivityStatusCode.Ok)
                {
                    journal.CheckpointCommitted(Tag(activity, Telemetry.RunIdTag), Tag(activity, Telemetry.RecoveryPointTag), Attempt(activity));
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }

    private static int Attempt(Activity activity) => Convert.ToInt32(activity.GetTagItem(Telemetry.AttemptTag), CultureInfo.InvariantCulture);

    private static string Tag(Activity activity, string name) => activity.GetTagItem(name) as string ?? "?";

    private static void Say(string line)
    {
        Console.Out.WriteLine(line);
        Console.Out.Flush();
    }
}
