using Cairn.Flows;
using Cairn.Sqlite;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Cairn.Console.BrowserTests;

/// <summary>
/// A real Kestrel on 127.0.0.1 (a free port) hosting an engine over a temporary SQLite file and the console over it.
/// The order flow fails while <see cref="MailServerDown"/> is set, or for an order whose quantity is not positive.
/// </summary>
internal sealed class ConsoleApp : IAsyncDisposable
{
    public const string PricedMessage = "<script>alert('priced')</script><img src=x onerror=alert(1)> priced";

    private readonly string _path;
    private readonly WebApplication _app;

    private ConsoleApp(string path, WebApplication app, string baseUrl)
    {
        _path = path;
        _app = app;
        BaseUrl = baseUrl;
    }

    /// <summary>The SQLite file of the app's engine.</summary>
    public string StorePath => _path;

    /// <summary>The console's page, ending in <c>/cairn/</c>.</summary>
    public string BaseUrl { get; }

    public volatile bool MailServerDown = true;

    /// <summary>While set, the outbox's publisher of <c>mail</c> messages throws, and a message is dead-lettered at its first failure.</summary>
    public volatile bool BrokerDown;

    /// <summary>The host name a browser maps to 127.0.0.1 (<see cref="BrowserFixture"/>): a page of another site re-pointed at this machine.</summary>
    public const string RebindingHost = "cairn.rebinding.test";

    public Flow<Order> OrderFlow { get; private set; } = null!;

    public CairnEngine Engine => _app.Services.GetRequiredService<CairnEngine>();

    /// <param name="options">Changes the console's options.</param>
    /// <param name="pricedMessage">The status message of the recovery point 'priced'; default <see cref="PricedMessage"/>.</param>
    /// <param name="behindProxy">Whether the app trusts <c>X-Forwarded-For</c> from a reverse proxy on 127.0.0.1, as an app behind one does.</param>
    public static async Task<ConsoleApp> StartAsync(
        Action<Cairn.AspNetCore.CairnConsoleOptions>? options = null, string pricedMessage = PricedMessage, bool behindProxy = false)
    {
        var path = Path.Combine(Path.GetTempPath(), $"cairn-browser-{Guid.NewGuid():N}.db");
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        ConsoleApp? app = null;
        var flow = Flow.Create<Order>("orders")
            .Retry(RetryPolicy.None)
            .Stage("load", (ctx, ct) => { ctx.State.Loaded = true; return Task.CompletedTask; })
            .RecoveryPoint("loaded", "order loaded")
            .Stage("price", (ctx, ct) =>
            {
                ctx.State.Total = ctx.State.Quantity * 10;
                ctx.Outbox.Add("mail", new { ctx.State.Id, ctx.State.Total });
                return ctx.State.Quantity <= 0 ? throw new InvalidOperationException($"quantity {ctx.State.Quantity} is not positive") : Task.CompletedTask;
            })
            .RecoveryPoint("priced", pricedMessage)
            .If("large", s => s.Quantity > 100, large => large
                .Stage("approve", (ctx, ct) => Task.CompletedTask)
                .RecoveryPoint("approved", "approved by a manager"))
            .Stage("send", (ctx, ct) => app!.MailServerDown ? throw new InvalidOperationException("the mail server refused the order") : Task.CompletedTask)
            .Build();
        builder.Services.AddCairn(c => c.UseSqlite(path)
            .AddFlow(flow)
            .AddOutboxPublisher("mail", (_, _) => app!.BrokerDown ? throw new IOException("the broker is down") : Task.CompletedTask)
            .Configure(o =>
            {
                o.PollInterval = TimeSpan.FromMilliseconds(200);
                o.CheckpointsToKeep = 3;
                o.OutboxPollInterval = TimeSpan.FromMilliseconds(200);
                o.OutboxRetryPolicy = RetryPolicy.None;
            }));
        builder.Services.AddCairnConsole(options);
        var web = builder.Build();
        if (behindProxy)
        {
            var forwarded = new ForwardedHeadersOptions { ForwardedHeaders = ForwardedHeaders.XForwardedFor };
            forwarded.KnownProxies.Add(System.Net.IPAddress.Loopback);
            web.UseForwardedHeaders(forwarded);
        }

        web.MapCairnConsole();
        await web.StartAsync();
        var address = web.Urls.Single(); // The port Kestrel chose, once started.
        app = new ConsoleApp(path, web, address.TrimEnd('/') + "/cairn/") { OrderFlow = flow };
        return app;
    }

    /// <summary>Runs one order to its end, failed or completed.</summary>
    public Task<RunOutcome<Order>> RunAsync(string recoveryId, int quantity = 1) =>
        Engine.RunAsync(OrderFlow, new Order { Id = recoveryId, Quantity = quantity }, recoveryId);

    public async Task<RunInfo> RunOfAsync(string recoveryId) =>
        (await Engine.Operator.ListRunsAsync(new RunQuery { RecoveryId = recoveryId, Limit = 1 })).Runs.Single();

    /// <summary>Changes the latest checkpoint's state in the SQLite file behind the engine's back, as damage or tampering would.</summary>
    public async Task TamperLatestCheckpointAsync(RunId runId)
    {
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={_path};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText =
            "UPDATE checkpoints SET state = CAST(replace(CAST(state AS TEXT), '\"Total\":10', '\"Total\":99') AS BLOB) " +
            "WHERE run_id = $run AND sequence = (SELECT max(sequence) FROM checkpoints WHERE run_id = $run)";
        command.Parameters.AddWithValue("$run", runId.ToString());
        Assert.Equal(1, await command.ExecuteNonQueryAsync());
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        foreach (var file in new[] { _path, _path + "-wal", _path + "-shm", _path + ".lock" })
        {
            File.Delete(file);
        }
    }

    public sealed class Order
    {
        public string Id { get; set; } = "";

        public int Quantity { get; set; }

        public bool Loaded { get; set; }

        public int Total { get; set; }
    }
}
