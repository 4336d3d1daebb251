using System.Text.RegularExpressions;
using Cairn.Flows;
using Cairn.Runs;
using Cairn.Sqlite;
using Cairn.Storage;
using Microsoft.Data.Sqlite;

namespace Cairn.Cli.Tests;

/// <summary>
/// <c>cairn outbox list|redrive</c> and <c>cairn runs cancel ID --compensate</c>, run as a real process against a SQLite
/// store holding a dead-lettered message (its publisher always throws), a pending one (committed by an engine without
/// publishers) and a purchase waiting for a retry after it reserved stock, a stage with a compensation.
/// </summary>
public sealed class OutboxCliTests : IAsyncLifetime
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private readonly string _dir = Directory.CreateTempSubdirectory("cairn-cli-outbox-").FullName;
    private readonly List<string> _released = [];
    private Flow<Order>? _orders;
    private Flow<Purchase>? _purchase;
    private RunId _deadRun;
    private RunId _pendingRun;
    private RunId _waiting;
    private Guid _dead;
    private Guid _pending;

    private string StorePath => Path.Combine(_dir, "cairn.db");

    public async Task InitializeAsync()
    {
        await using (var failing = CairnEngine.CreateBuilder()
            .UseSqlite(StorePath)
            .Configure(o => o.OutboxRetryPolicy = RetryPolicy.None)
            .AddOutboxPublisher("NewOrder", (_, _) => throw new IOException("broker down"))
            .AddFlow(Orders())
            .Build())
        {
            _deadRun = (await failing.RunAsync(Orders(), new Order { Number = 1 }, "order-1")).RunId;
            await StoreWaits.UntilAsync(async () => (await ListAsync(OutboxStatus.DeadLettered)).Count == 1, Patience, "the dead letter");
        }

        // Without a publisher an engine runs no dispatcher: its messages stay pending, never tried.
        await using (var silent = CairnEngine.CreateBuilder().UseSqlite(StorePath).AddFlow(Orders()).Build())
        {
            _pendingRun = (await silent.RunAsync(Orders(), new Order { Number = 2 }, "order-2")).RunId;
            _waiting = (await silent.StartRunAsync(PurchaseFlow(), new Purchase(), "purchase-1")).Id;
            await StoreWaits.UntilAsync(async () => (await GetRunAsync(_waiting)).Status == RunStatus.WaitingForRetry, Patience, "the purchase to wait for a retry");
        }

        _dead = StoreRules.OutboxMessageId(_deadRun, 1, 0);
        _pending = StoreRules.OutboxMessageId(_pendingRun, 1, 0);
        Assert.Equal([(_dead, OutboxStatus.DeadLettered), (_pending, OutboxStatus.Pending)], (await ListAsync()).Select(m => (m.Id, m.Status)));
    }

    public Task DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task OutboxList_PendingAndDeadLetteredMessages_ShowsBothOldestFirstWithAttemptsAndError()
    {
        var result = await CairnAsync("outbox", "list");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("", result.Errors);
        var dead = Row(result.Output, _dead);
        Assert.Contains(_deadRun.ToString(), dead, StringComparison.Ordinal);
        Assert.Contains("NewOrder", dead, StringComparison.Ordinal);
        Assert.Contains("DeadLettered", dead, StringComparison.Ordinal);
        Assert.Contains("│ 1 ", dead, StringComparison.Ordinal);
        Assert.Contains("IOException: broker down", dead, StringComparison.Ordinal);
        var pending = Row(result.Output, _pending);
        Assert.Contains(_pendingRun.ToString(), pending, StringComparison.Ordinal);
        Assert.Contains("Pending", pending, StringComparison.Ordinal);
        Assert.Contains("│ 0 ", pending, StringComparison.Ordinal);
        Assert.True(result.Output.IndexOf(_dead.ToString(), StringComparison.Ordinal) < result.Output.IndexOf(_pending.ToString(), StringComparison.Ordinal));
        Assert.Contains("2 message(s)", result.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("DeadLettered")]
    [InlineData("Pending")]
    public async Task OutboxList_WithStatusFilter_ShowsOnlyMessagesWithThatStatus(string status)
    {
        var (shown, hidden) = status == "Pending" ? (_pending, _dead) : (_dead, _pending);

        var result = await CairnAsync("outbox", "list", "--status", status);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains(status, Row(result.Output, shown), StringComparison.Ordinal);
        Assert.DoesNotContain(hidden.ToString(), result.Output, StringComparison.Ordinal);
        Assert.Contains("1 message(s)", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OutboxList_WithRunAndLimit_ShowsOnlyThoseMessages()
    {
        var ofRun = await CairnAsync("outbox", "list", "--run", _pendingRun.ToString());
        var first = await CairnAsync("outbox", "list", "--limit", "1");

        Assert.Equal((0, 0), (ofRun.ExitCode, first.ExitCode));
        Assert.Contains(_pending.ToString(), ofRun.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(_dead.ToString(), ofRun.Output, StringComparison.Ordinal);
        Assert.Contains(_dead.ToString(), first.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(_pending.ToString(), first.Output, StringComparison.Ordinal);
        Assert.Contains("1 message(s)", first.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OutboxRedrive_DeadLetteredMessage_MakesItPendingAgainWithItsOwnId()
    {
        var result = await CairnAsync("outbox", "redrive", "--id", _dead.ToString());

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("1 dead-lettered message(s) are pending again", result.Output, StringComparison.Ordinal);
        var redriven = Assert.Single(await ListAsync(), m => m.Id == _dead);
        Assert.Equal((OutboxStatus.Pending, 0, null), (redriven.Status, redriven.Attempts, redriven.LastError));
        var listed = await CairnAsync("outbox", "list", "--status", "Pending");
        Assert.Contains("Pending", Row(listed.Output, _dead), StringComparison.Ordinal);
        Assert.Contains("2 message(s)", listed.Output, StringComparison.Ordinal);
        Assert.Contains("0 message(s)", (await CairnAsync("outbox", "list", "--status", "DeadLettered")).Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OutboxRedrive_WithoutId_RedrivesEveryDeadLetterAndLeavesPendingOnesAlone()
    {
        var before = Assert.Single(await ListAsync(OutboxStatus.Pending)).ToString();

        var result = await CairnAsync("outbox", "redrive");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("1 dead-lettered message(s) are pending again", result.Output, StringComparison.Ordinal);
        Assert.Empty(await ListAsync(OutboxStatus.DeadLettered));
        Assert.Equal(before, Assert.Single(await ListAsync(), m => m.Id == _pending).ToString());
    }

    [Fact]
    public async Task RunsCancel_WithCompensate_RequestsCompensation_ThenAnEngineCompensatesTheRun()
    {
        var result = await CairnAsync("runs", "cancel", _waiting.ToString(), "--compensate");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains(
            $"Run {_waiting} is Pending: an engine serving flow 'purchase' runs its compensations, then it is Compensated.",
            result.Output,
            StringComparison.Ordinal);
        var requested = await CairnAsync("runs", "show", _waiting.ToString());
        Assert.Contains("CompensationRequested", requested.Output, StringComparison.Ordinal);
        Assert.Contains("cancelled with compensation from the command line: compensating stage 'reserve'", requested.Output, StringComparison.Ordinal);
        Assert.Empty(_released);

        await using (var engine = CairnEngine.CreateBuilder().UseSqlite(StorePath).AddFlow(PurchaseFlow()).Build())
        {
            await engine.StartAsync(Ct);
            using var timeout = new CancellationTokenSource(Patience);
            await engine.WaitForAsync(_waiting, r => r.Status == RunStatus.Compensated, timeout.Token);
        }

        Assert.Equal(["reserve"], _released);
        var compensated = await CairnAsync("runs", "show", _waiting.ToString());
        Assert.Matches(new Regex(@"^\s*Status\s+Compensated\s*$", RegexOptions.Multiline), compensated.Output);
    }

    [Fact]
    public async Task RunsCancel_WithCompensateOnAFinishedRun_FailsWithOneLineAndChangesNothing()
    {
        var before = await SnapshotAsync();

        var result = await CairnAsync("runs", "cancel", _deadRun.ToString(), "--compensate");

        AssertOneLineError(result, "Completed");
        Assert.Equal(before, await SnapshotAsync());
    }

    [Theory]
    [InlineData("unknown run", "runs", "cancel", "{unknown}", "--compensate")]
    [InlineData("not a run ID", "runs", "cancel", "order-1", "--compensate")]
    [InlineData("not a message ID", "outbox", "redrive", "--id", "message-1")]
    [InlineData("not a run ID", "outbox", "list", "--run", "order-1")]
    [InlineData("limit 0", "outbox", "list", "--limit", "0")]
    public async Task OutboxAndCancel_BadValues_FailWithOneLineAndChangeNothing(string what, params string[] arguments)
    {
        var before = await SnapshotAsync();

        var result = await CairnAsync([.. arguments.Select(a => a == "{unknown}" ? RunId.New().ToString() : a)]);

        AssertOneLineError(
            result,
            what switch
            {
                "unknown run" => "does not exist",
                "not a message ID" => "--id 'message-1' is not a message ID",
                "limit 0" => "--limit must be 1 or more; it is 0",
                _ => "order-1",
            },
            exitCode: what == "limit 0" ? 2 : 1);
        Assert.Equal(before, await SnapshotAsync());
    }

    [Theory]
    [InlineData("outbox", "list", "--limit", "many")]
    [InlineData("runs", "cancel", "{waiting}", "--compensate", "maybe")]
    public async Task OutboxAndCancel_UnparsableFlagValue_FailWithOneLineAndChangeNothing(params string[] arguments)
    {
        var before = await SnapshotAsync();

        var result = await CairnAsync([.. arguments.Select(a => a == "{waiting}" ? _waiting.ToString() : a)]);

        // A value the command line cannot parse is a usage error: exit code 2.
        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"'{arguments[^1]}'", Assert.Single(result.Errors.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Errors, StringComparison.Ordinal);
        Assert.Equal(before, await SnapshotAsync());
    }

    [Fact]
    public async Task OutboxList_UnknownStatus_FailsNamingTheValueAndTheStatusesAndChangesNothing()
    {
        var before = await SnapshotAsync();

        var result = await CairnAsync("outbox", "list", "--status", "Delivered");

        AssertOneLineError(result, "--status 'Delivered' is not an outbox status: use Pending, DeadLettered (see 'cairn outbox list --help').", exitCode: 2);
        Assert.Equal(before, await SnapshotAsync());
    }

    [Theory]
    [InlineData("unknown")]
    [InlineData("pending")]
    public async Task OutboxRedrive_IdOfNoDeadLetter_RedrivesNothingAndChangesNothing(string which)
    {
        var id = which == "pending" ? _pending : Guid.NewGuid();
        var before = await SnapshotAsync();

        var result = await CairnAsync("outbox", "redrive", "--id", id.ToString());

        Assert.Contains("0 dead-lettered message(s)", result.Output, StringComparison.Ordinal);
        AssertOneLineError(result, "1 of the 1 message(s) named are not dead-lettered");
        Assert.Equal(before, await SnapshotAsync());
    }

    [Theory]
    [InlineData("outbox", "list")]
    [InlineData("outbox", "redrive")]
    [InlineData("runs", "cancel", "{waiting}", "--compensate")]
    public async Task OutboxAndCancel_MissingStore_FailWithOneLineAndCreateNoFile(params string[] arguments)
    {
        var missing = Path.Combine(_dir, "missing.db");

        var result = await CairnAsync([.. arguments.Select(a => a == "{waiting}" ? _waiting.ToString() : a), "--store", missing]);

        AssertOneLineError(result, $"No store at '{missing}'");
        Assert.False(File.Exists(missing));
    }

    private static void AssertOneLineError((int ExitCode, string Output, string Errors) result, string expected, int exitCode = 1)
    {
        Assert.Equal(exitCode, result.ExitCode);
        var line = Assert.Single(result.Errors.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("cairn: ", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
    }

    /// <summary>The table row that shows <paramref name="id"/>.</summary>
    private static string Row(string output, Guid id) =>
        Assert.Single(output.Split('\n'), line => line.Contains(id.ToString(), StringComparison.Ordinal));

    /// <summary>orders: 'save' adds a message to NewOrder, then recovery point 'saved' commits it.</summary>
    private Flow<Order> Orders() => _orders ??= Flow.Create<Order>("orders")
        .Stage("save", (context, _) =>
        {
            context.Outbox.Add("NewOrder", new { context.State.Number });
            return Task.CompletedTask;
        })
        .RecoveryPoint("saved")
        .Stage("finish", (_, _) => Task.CompletedTask)
        .Build();

    /// <summary>purchase: 'reserve' (compensated by a release), recovery point 'reserved', then 'pay', declined until the far retry.</summary>
    private Flow<Purchase> PurchaseFlow() => _purchase ??= Flow.Create<Purchase>("purchase")
        .Stage("reserve", (_, _) => Task.CompletedTask)
        .CompensateWith((_, _) =>
        {
            lock (_released)
            {
                _released.Add("reserve");
            }

            return Task.CompletedTask;
        })
        .RecoveryPoint("reserved")
        .Stage("pay", (_, _) => throw new InvalidOperationException("card declined"))
        .Retry(p => p with { MaxRetries = 3, Interval = TimeSpan.FromHours(1), MaxInterval = TimeSpan.FromHours(1) })
        .Build();

    private async Task<IReadOnlyList<OutboxMessage>> ListAsync(OutboxStatus? status = null)
    {
        await using var store = await OpenStoreAsync();
        return await store.ListOutboxAsync(new OutboxQuery { Status = status }, Ct);
    }

    private async Task<RunRecord> GetRunAsync(RunId id)
    {
        await using var store = await OpenStoreAsync();
        return await store.GetRunAsync(id, Ct) ?? throw new InvalidOperationException($"Run {id} is gone.");
    }

    /// <summary>Everything a command could change: the outbox, and each run with its events.</summary>
    private async Task<string> SnapshotAsync()
    {
        await using var store = await OpenStoreAsync();
        var parts = new List<string> { string.Join("\n", await store.ListOutboxAsync(new OutboxQuery(), Ct)) };
        foreach (var id in new[] { _deadRun, _pendingRun, _waiting })
        {
            parts.Add($"{await store.GetRunAsync(id, Ct)}");
            parts.Add(string.Join("\n", await store.GetEventsAsync(id, Ct)));
        }

        return string.Join("\n", parts);
    }

    private async Task<SqliteRunStore> OpenStoreAsync()
    {
        var store = new SqliteRunStore(new SqliteStoreOptions { Path = StorePath });
        await store.InitializeAsync(Ct);
        return store;
    }

    private Task<(int ExitCode, string Output, string Errors)> CairnAsync(params string[] arguments) =>
        DotnetProgram.RunAsync("Cairn.Cli.dll", _dir, TimeSpan.FromSeconds(60), arguments);

    public sealed class Order
    {
        public int Number { get; set; }
    }

    public sealed class Purchase
    {
        public string Item { get; set; } = "lamp";
    }
}
