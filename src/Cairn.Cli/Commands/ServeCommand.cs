using System.Runtime.InteropServices;
using Cairn.Cli.Demo;

namespace Cairn.Cli.Commands;

/// <summary>
/// <c>cairn serve --store STORE</c>: a headless worker node that executes the tool's demo flow (order import) until
/// SIGINT or SIGTERM, then stops gracefully: a way to try a multi-node setup. Applications host their own flows in their
/// own process with <c>services.AddCairn(...)</c>. The crash test builds its own <c>serve</c> on this one, with its flows.
/// </summary>
internal static class ServeCommand
{
    public const string Name = "serve";

    // The names of the node commands built here (this tool's, and the crash test's own), which stop on SIGTERM by themselves.
    private static readonly HashSet<string> NodeNames = [Name];

    /// <summary>Whether a command of this name is a node built here, which handles SIGINT and SIGTERM itself.</summary>
    public static bool IsNode(string commandName)
    {
        lock (NodeNames)
        {
            return NodeNames.Contains(commandName);
        }
    }

    public static Command Create() => Create(
        Name,
        "Run a worker node for the tool's demo flow: execute its due runs until Ctrl+C or SIGTERM",
        builder => builder.AddFlow(OrderImportFlow.Create(new OrderImportOptions())),
        observe: null);

    /// <summary>A <c>serve</c> command whose node runs the flows <paramref name="addFlows"/> adds.</summary>
    /// <param name="name">The command's name: <see cref="Name"/>, or another for a node of a harness's own.</param>
    /// <param name="observe">Called once the options are parsed, before the node starts (to journal its stages, say); disposed when it stops.</param>
    /// <param name="extraOptions">Options for <paramref name="observe"/> to read.</param>
    public static Command Create(string name, string description, Action<CairnEngineBuilder> addFlows, Func<ParseResult, IDisposable?>? observe, params Option[] extraOptions)
    {
        var store = StoreOption.Create();
        var node = new Option<string?>("--node") { Description = "The node's name, shown as the owner of the runs it executes (default: machine, process ID and a random suffix)" };
        var maxConcurrentRuns = new Option<int?>("--max-concurrent-runs") { Description = "The most runs executed at once (default 64)" };
        var leaseDuration = new Option<string?>("--lease-duration") { Description = "How long a claimed run stays this node's without a heartbeat, for example 30s (default 30s)" };
        var healthUrls = HealthEndpoint.CreateOption();
        lock (NodeNames)
        {
            NodeNames.Add(name);
        }

        var command = new Command(name, description)
        {
            store, node, maxConcurrentRuns, leaseDuration, healthUrls,
        };
        foreach (var option in extraOptions)
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parse, ct) =>
        {
            var storeValue = parse.GetRequiredValue(store);
            var lease = parse.GetValue(leaseDuration) is { } text ? Duration.Parse(text, "--lease-duration") : (TimeSpan?)null;
            using var loggerFactory = LoggerFactory.Create(logging => logging
                .SetMinimumLevel(LogLevel.Information)
                .AddSimpleConsole(console =>
                {
                    console.SingleLine = true;
                    console.TimestampFormat = "HH:mm:ss ";
                    console.UseUtcTimestamp = true;
                }));
            using var observer = observe?.Invoke(parse);

            var builder = StoreOption.UseStore(CairnEngine.CreateBuilder(), storeValue)
                .UseLoggerFactory(loggerFactory)
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
            addFlows(builder);
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
            var probes = parse.GetValue(healthUrls) is { } urls ? HealthEndpoint.Parse(urls, out _) : null;
            await using var health = probes is null ? null : await HealthEndpoint.StartAsync(engine, probes, ct);
            foreach (var url in probes ?? [])
            {
                Say(HealthEndpoint.IsLoopback(url)
                    ? $"cairn serve: health at {url}healthz"
                    : $"cairn serve: health at {url}healthz, which is not a loopback address: whoever can reach it sees this node's health");
            }

            Say(string.Create(CultureInfo.InvariantCulture,
                $"cairn serve: node {engine.NodeName} serving {engine.Flows.Count} flow(s) from {StoreOption.Describe(storeValue)}; Ctrl+C to stop"));

            await stop.Task.WaitAsync(ct);
            if (health is not null)
            {
                await health.StopAsync(CancellationToken.None);
            }

            await engine.StopAsync(CancellationToken.None);
            Say($"cairn serve: node {engine.NodeName} stopped");
            return 0;
        });
        return command;
    }

    private static void Say(string line)
    {
        Console.Out.WriteLine(line);
        Console.Out.Flush();
    }
}
