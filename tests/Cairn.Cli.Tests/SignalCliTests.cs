using Cairn.Flows;
using Cairn.Runs;
using Cairn.Sqlite;
using Microsoft.Data.Sqlite;

namespace Cairn.Cli.Tests;

/// <summary><c>cairn runs signal</c> and <c>cairn runs signals</c>, run as a real process against a SQLite store whose run waits for an approval.</summary>
public sealed class SignalCliTests : IAsyncLifetime
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private readonly string _dir = Directory.CreateTempSubdirectory("cairn-cli-signal-").FullName;
    private RunId _waiting;

    private static Flow<Order> Flow { get; } = Cairn.Flows.Flow.Create<Order>("approval")
        .Stage("submit", (context, _) => { context.State.Trace.Add("submit"); return Task.CompletedTask; })
        .WaitFor<Approval>("approval", (order, approval) => order.ApprovedBy = approval.By)
        .Stage("pay", (context, _) => { context.State.Trace.Add("pay"); return Task.CompletedTask; })
        .Build();

    public async Task InitializeAsync()
    {
        await using var engine = Engine();
        var run = await engine.StartRunAsync(Flow, new Order(), "order-1");
        _waiting = run.Id;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await engine.WaitForAsync(run.Id, r => r.Status == RunStatus.Waiting, timeout.Token);
    }

    public Task DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task RunsSignal_DeliversOnce_RunsSignalsListsIt_TheNextEngineTakesIt()
    {
        var sent = await CairnAsync("runs", "signal", _waiting.ToString(), "approval", "--payload", """{"By":"ops-lead"}""", "--id", "ticket-7");
        var again = await CairnAsync("runs", "signal", _waiting.ToString(), "approval", "--payload", """{"By":"someone-else"}""", "--id", "ticket-7");
        var listed = await CairnAsync("runs", "signals", _waiting.ToString());

        Assert.Equal(0, sent.ExitCode);
        Assert.Contains($"Signal 'approval' (ID ticket-7) delivered to run {_waiting}.", sent.Output, StringComparison.Ordinal);
        Assert.Equal(0, again.ExitCode);
        Assert.Contains("already has signal ID ticket-7: nothing changed", again.Output, StringComparison.Ordinal);
        Assert.Equal(0, listed.ExitCode);
        Assert.Contains("ticket-7", listed.Output, StringComparison.Ordinal);
        Assert.Contains("not taken", listed.Output, StringComparison.Ordinal);
        Assert.Contains("ops-lead", listed.Output, StringComparison.Ordinal);

        await using var engine = Engine();
        await engine.StartAsync(Ct);
        var outcome = await engine.WaitForRunAsync(Flow, _waiting, Ct).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(RunStatus.Completed, outcome.Status);
        Assert.Equal("ops-lead", outcome.Result!.ApprovedBy);
        Assert.Equal(["submit", "pay"], outcome.Result.Trace);
    }

    [Fact]
    public async Task RunsSignal_BadPayloadOrFinishedRun_OneLineError_NothingKept()
    {
        var notJson = await CairnAsync("runs", "signal", _waiting.ToString(), "approval", "--payload", "{By: ops}");
        Assert.Equal(1, notJson.ExitCode);
        Assert.StartsWith("cairn: --payload is not well-formed JSON", notJson.Errors.Trim(), StringComparison.Ordinal);
        Assert.Single(notJson.Errors.Trim().Split('\n'));

        var unknown = await CairnAsync("runs", "signal", RunId.New().ToString(), "approval");
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("does not exist", unknown.Errors, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", unknown.Errors, StringComparison.Ordinal);

        await using var store = new SqliteRunStore(new SqliteStoreOptions { Path = StorePath });
        await store.InitializeAsync(Ct);
        Assert.Empty(await RunOperator.Create(store).ListSignalsAsync(_waiting, Ct));
    }

    private string StorePath => Path.Combine(_dir, "cairn.db");

    private CairnEngine Engine() => CairnEngine.CreateBuilder().UseSqlite(StorePath).AddFlow(Flow).Build();

    private Task<(int ExitCode, string Output, string Errors)> CairnAsync(params string[] arguments) =>
        DotnetProgram.RunAsync("Cairn.Cli.dll", _dir, TimeSpan.FromSeconds(60), arguments);

    public sealed class Order
    {
        public List<string> Trace { get; set; } = [];

        public string? ApprovedBy { get; set; }
    }

    public sealed class Approval
    {
        public string By { get; set; } = "";
    }
}
