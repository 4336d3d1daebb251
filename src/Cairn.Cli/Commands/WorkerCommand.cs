using Cairn.Flows;
using Cairn.Sqlite;

namespace Cairn.Cli.Commands;

/// <summary>
/// What the hidden workers that run one run of a flow in this process share (<c>demo-worker</c>, <c>reconcile-worker</c>):
/// the options naming the SQLite store, the run's recovery ID and its folder, and the run itself on an engine that logs
/// as the worker protocol says, ending with the line <c>COMPLETED RUN ...</c> (exit code 0) or <c>FAILED RUN STATUS ERROR</c> (1).
/// </summary>
internal sealed class WorkerCommand
{
    private readonly Option<string> _store = StoreOption.Create();
    private readonly Option<string> _recoveryId = new("--recovery-id") { Required = true };
    private readonly Option<string> _directory;

    /// <param name="name">The command's name.</param>
    /// <param name="description">The command's description.</param>
    /// <param name="directory">What the folder given by <c>--dir</c> holds.</param>
    public WorkerCommand(string name, string description, string directory)
    {
        _directory = new Option<string>("--dir") { Required = true, Description = directory };
        Command = new Command(name, description) { _store, _recoveryId, _directory };
        Command.Hidden = true;
    }

    /// <summary>The command, to which a worker adds its own options and sets its action.</summary>
    public Command Command { get; }

    /// <summary>The run's folder.</summary>
    public string Directory(ParseResult parse) => parse.GetRequiredValue(_directory);

    /// <summary>Runs the flow once, polling every 200 ms unless <paramref name="configure"/> says otherwise, and prints how the run ended.</summary>
    /// <param name="completed">The words after <c>COMPLETED RUN</c> for a completed run.</param>
    public async Task<int> RunAsync<TState>(
        ParseResult parse, Flow<TState> flow, TState input, Action<CairnOptions>? configure, Func<RunOutcome<TState>, string> completed,
        CancellationToken cancellationToken)
    {
        using var loggerFactory = WorkerProtocol.CreateLoggerFactory();
        await using var engine = CairnEngine.CreateBuilder()
            .UseLoggerFactory(loggerFactory)
            .UseSqlite(parse.GetRequiredValue(_store))
            .AddFlow(flow)
            .Configure(o =>
            {
                o.PollInterval = TimeSpan.FromMilliseconds(200);
                configure?.Invoke(o);
            })
            .Build();
        var outcome = await engine.RunAsync(flow, input, parse.GetRequiredValue(_recoveryId), cancellationToken);
        if (outcome.IsCompleted)
        {
            WorkerProtocol.Say($"COMPLETED {outcome.RunId} {completed(outcome)}");
            return 0;
        }

        WorkerProtocol.Say($"FAILED {outcome.RunId} {outcome.Status} {outcome.Error}");
        return 1;
    }
}
