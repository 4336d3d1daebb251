using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Text.Encodings.Web;
using System.Text.Json;
using Cairn.AspNetCore;
using Cairn.Flows;
using Cairn.Sqlite;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cairn.AspNetCore.Tests;

/// <summary>Who sends a request: the rows of the authorization matrix.</summary>
internal enum Caller
{
    AnonymousLoopback,
    AnonymousRemote,
    Viewer,
    Operator,
}

/// <summary>
/// A real SQLite store seeded by a real engine, and an ASP.NET Core app on the test server that maps the console over it.
/// A request's remote address comes from the <c>X-Test-Remote</c> header (loopback when absent); a user from
/// <c>Authorization: Test NAME:ROLE,ROLE</c> (an API client) or <c>X-Test-User</c> (a browser session: ambient).
/// </summary>
internal sealed class ConsoleHost : IAsyncDisposable
{
    public const string Remote = "203.0.113.7";

    private readonly string _path;
    private readonly WebApplication _app;
    private readonly SqliteRunStore? _store;

    private ConsoleHost(string path, WebApplication app, HttpClient client, SqliteRunStore? store)
    {
        _path = path;
        _app = app;
        _store = store;
        Client = client;
    }

    public HttpClient Client { get; }

    public IServiceProvider Services => _app.Services;

    public string StorePath => _path;

    public static Flow<Order> OrderFlow { get; } = Flow.Create<Order>("orders")
        .Retry(RetryPolicy.None)
        .Stage("load", (ctx, ct) => { ctx.State.Loaded = true; return Task.CompletedTask; })
        .RecoveryPoint("loaded", "<script>alert('loaded')</script>")
        .Stage("send", (ctx, ct) => ctx.State.Fail ? throw new InvalidOperationException("the mail server refused the order") : Task.CompletedTask)
        .Build();

    /// <summary>Seeds a store with <paramref name="failed"/> failed runs and <paramref name="completed"/> completed ones, then starts the app.</summary>
    public static async Task<ConsoleHost> StartAsync(
        int failed = 2,
        int completed = 1,
        Action<CairnConsoleOptions>? options = null,
        Action<IServiceCollection>? services = null,
        Action<RouteGroupBuilder>? group = null,
        bool registerOperator = true)
    {
        var path = Path.Combine(Path.GetTempPath(), $"cairn-console-{Guid.NewGuid():N}.db");
        await using (var engine = CairnEngine.CreateBuilder().UseSqlite(path).AddFlow(OrderFlow).Build())
        {
            for (var i = 0; i < failed; i++)
            {
                await engine.RunAsync(OrderFlow, new Order { Id = $"F{i}", Fail = true, Secret = "hunter2" }, $"failed-{i}");
            }

            for (var i = 0; i < completed; i++)
            {
                await engine.RunAsync(OrderFlow, new Order { Id = $"C{i}" }, $"completed-{i}");
            }
        }

        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        SqliteRunStore? store = null;
        if (registerOperator)
        {
            store = new SqliteRunStore(new SqliteStoreOptions { Path = path });
            await store.InitializeAsync(CancellationToken.None);
            builder.Services.AddSingleton(RunOperator.Create(store));
        }

        builder.Services.AddAuthentication(TestAuthentication.Scheme).AddScheme<AuthenticationSchemeOptions, TestAuthentication>(TestAuthentication.Scheme, null);
        builder.Services.AddCairnConsole(options);
        services?.Invoke(builder.Services);
        WebApplication app;
        try
        {
            app = builder.Build();
        }
        catch
        {
            await DeleteAsync(store, path);
            throw;
        }

        app.Use((context, next) =>
        {
            context.Connection.RemoteIpAddress = IPAddress.Parse(context.Request.Headers["X-Test-Remote"].FirstOrDefault() ?? "127.0.0.1");
            return next(context);
        });
        try
        {
            var console = app.MapCairnConsole();
            group?.Invoke(console);
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            await DeleteAsync(store, path);
            throw;
        }

        return new ConsoleHost(path, app, app.GetTestClient(), store);
    }

    public async Task<RunInfo> RunAsync(RunStatus status) =>
        (await Operator.ListRunsAsync(new RunQuery { Statuses = [status], Limit = 1 })).Runs.Single();

    public RunOperator Operator => Services.GetRequiredService<RunOperator>();

    /// <summary>Sends a request as <paramref name="caller"/>; a write gets the anti-forgery token first unless <paramref name="withToken"/> is false.</summary>
    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string url, Caller caller = Caller.AnonymousLoopback, object? body = null, bool withToken = true)
    {
        using var request = Request(method, url, caller);
        if (body is not null)
        {
            request.Content = body is string text ? new StringContent(text, System.Text.Encoding.UTF8, "application/json") : JsonContent.Create(body);
        }

        if (method != HttpMethod.Get && withToken && caller == Caller.AnonymousLoopback)
        {
            await AddTokenAsync(request, caller);
        }

        return await Client.SendAsync(request);
    }

    public async Task AddTokenAsync(HttpRequestMessage request, Caller caller, string? sessionUser = null)
    {
        using var tokenRequest = Request(HttpMethod.Get, "/cairn/api/antiforgery", caller);
        if (sessionUser is not null)
        {
            tokenRequest.Headers.Add("X-Test-User", sessionUser);
        }

        using var response = await Client.SendAsync(tokenRequest);
        response.EnsureSuccessStatusCode();
        var token = await response.Content.ReadFromJsonAsync<JsonElement>();
        request.Headers.Add(token.GetProperty("headerName").GetString()!, token.GetProperty("token").GetString());
        var cookies = response.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0]);
        request.Headers.Add("Cookie", string.Join("; ", cookies));
    }

    public static HttpRequestMessage Request(HttpMethod method, string url, Caller caller)
    {
        var request = new HttpRequestMessage(method, url);
        if (caller != Caller.AnonymousLoopback)
        {
            request.Headers.Add("X-Test-Remote", Remote);
        }

        if (caller == Caller.Viewer)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue(TestAuthentication.Scheme, "vera:" + CairnConsoleDefaults.ViewerRole);
        }
        else if (caller == Caller.Operator)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue(TestAuthentication.Scheme, "alice:" + CairnConsoleDefaults.OperatorRole);
        }

        return request;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.DisposeAsync();
        await DeleteAsync(_store, _path);
    }

    private static async Task DeleteAsync(SqliteRunStore? store, string path)
    {
        if (store is not null)
        {
            await store.DisposeAsync();
        }

        foreach (var file in new[] { path, path + "-wal", path + "-shm", path + ".lock" })
        {
            File.Delete(file);
        }
    }

    public sealed class Order
    {
        public string Id { get; set; } = "";

        public bool Fail { get; set; }

        public bool Loaded { get; set; }

        public string? Secret { get; set; }
    }

    /// <summary>Authenticates <c>Authorization: Test NAME:ROLES</c>, or <c>X-Test-User: NAME:ROLES</c> as a browser session would.</summary>
    public sealed class TestAuthentication(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        public new const string Scheme = "Test";

        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            var header = Request.Headers.Authorization.FirstOrDefault() is { } auth && auth.StartsWith(Scheme + " ", StringComparison.Ordinal)
                ? auth[(Scheme.Length + 1)..]
                : Request.Headers["X-Test-User"].FirstOrDefault();
            if (header is null)
            {
                return Task.FromResult(AuthenticateResult.NoResult());
            }

            var parts = header.Split(':');
            var claims = new List<Claim> { new(ClaimTypes.Name, parts[0]) };
            claims.AddRange(parts.Length > 1 ? parts[1].Split(',', StringSplitOptions.RemoveEmptyEntries).Select(r => new Claim(ClaimTypes.Role, r)) : []);
            var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, Scheme));
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, Scheme)));
        }
    }
}
