using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Cairn.Flows;
using Cairn.Runs;
using Cairn.Sqlite;
using Microsoft.Data.Sqlite;

namespace Cairn.Cli.Tests;

/// <summary><c>cairn console</c>, run as a real process serving the REST API over a SQLite store.</summary>
public sealed class ConsoleCommandTests : IDisposable
{
    private const string Token = "a-long-enough-test-token";
    private readonly string _dir = Directory.CreateTempSubdirectory("cairn-console-").FullName;

    private string StorePath => Path.Combine(_dir, "cairn.db");

    [Fact]
    public async Task Console_Loopback_ServesTheRunsListAndHealthAndStopsOnSigterm()
    {
        await SeedAsync();

        using var console = DotnetProgram.Start("Cairn.Cli.dll", "console", "--store", StorePath, "--urls", "http://127.0.0.1:0");
        var api = ApiUrl(await console.WaitForLineAsync("cairn console: serving"));
        using var client = new HttpClient();
        var page = JsonDocument.Parse(await client.GetStringAsync($"{api}/runs")).RootElement;

        using var health = await client.GetAsync(api.Replace("/cairn/api", "/healthz", StringComparison.Ordinal));

        Assert.Equal("console-1", Assert.Single(page.GetProperty("runs").EnumerateArray()).GetProperty("recoveryId").GetString());
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        await console.TerminateAsync();
        Assert.Equal(0, await console.WaitForExitAsync());
        Assert.Contains("cairn console: stopped", console.Lines);
    }

    [Fact]
    public async Task Console_WithToken_RequiresTheBearerTokenAndGrantsTheOperatorRole()
    {
        await SeedAsync();

        using var console = DotnetProgram.Start("Cairn.Cli.dll", "console", "--store", StorePath, "--urls", "http://127.0.0.1:0", "--token", Token);
        var api = ApiUrl(await console.WaitForLineAsync("cairn console: serving"));
        using var client = new HttpClient();
        using var anonymous = await client.GetAsync($"{api}/runs");
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        using var purge = await client.PostAsync($"{api}/purge?olderThan=3650d", content: null);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.OK, purge.StatusCode);
    }

    [Fact]
    public async Task Console_WithToken_PagesSendPeopleToSignInAndTheTokenStartsASession()
    {
        await SeedAsync();

        using var console = DotnetProgram.Start("Cairn.Cli.dll", "console", "--store", StorePath, "--urls", "http://127.0.0.1:0", "--token", Token);
        var api = ApiUrl(await console.WaitForLineAsync("cairn console: serving"));
        var site = api[..^"/cairn/api".Length];
        var cookies = new CookieContainer();
        using var client = new HttpClient(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false });

        using var page = await client.GetAsync($"{site}/cairn/");
        using var wrong = await client.PostAsync($"{site}/cairn/signin", Form("not-the-token", "/cairn/"));
        using var elsewhere = await client.PostAsync($"{site}/cairn/signin", Form(Token, "//evil.example/cairn/"));
        using var runs = await client.GetAsync($"{api}/runs");
        using var forged = await client.PostAsync($"{api}/purge?olderThan=3650d", content: null);

        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        Assert.Equal("/cairn/signin?returnUrl=%2Fcairn%2F", page.Headers.Location?.OriginalString);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Contains("That is not this console&#x27;s token.", await wrong.Content.ReadAsStringAsync());
        Assert.Equal("/cairn/", elsewhere.Headers.Location?.OriginalString); // Never a redirect off the console.
        Assert.Equal(HttpStatusCode.OK, runs.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode); // A session's write needs the anti-forgery token.
        Assert.Contains("anti-forgery", await forged.Content.ReadAsStringAsync());
    }

    private static FormUrlEncodedContent Form(string token, string returnUrl) =>
        new(new Dictionary<string, string> { ["token"] = token, ["returnUrl"] = returnUrl });

    [Theory]
    [InlineData("http://0.0.0.0:5999")]
    [InlineData("http://*:5999")]
    [InlineData("http://127.0.0.1:5999;http://192.0.2.1:5999")]
    public async Task Console_NonLoopbackWithoutToken_RefusesInOneLine(string urls)
    {
        await SeedAsync();

        var (code, output, errors) = await DotnetProgram.RunAsync("Cairn.Cli.dll", null, TimeSpan.FromSeconds(60), "console", "--store", StorePath, "--urls", urls);

        Assert.Equal(1, code);
        Assert.Equal("", output);
        var line = Assert.Single(errors.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("cairn: --urls '", line);
        Assert.Contains("pass --token TOKEN", line);
    }

    private static string ApiUrl(string line)
    {
        var start = line.IndexOf("http://", StringComparison.Ordinal);
        return line[start..line.IndexOf(' ', start)];
    }

    private async Task SeedAsync()
    {
        var flow = Flow.Create<Parcel>("parcels").Stage("weigh", (ctx, ct) => Task.CompletedTask).RecoveryPoint("weighed").Stage("label", (ctx, ct) => Task.CompletedTask).Build();
        await using var engine = CairnEngine.CreateBuilder().UseSqlite(StorePath).AddFlow(flow).Build();
        await engine.RunAsync(flow, new Parcel(), "console-1");
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private sealed class Parcel
    {
        public int Grams { get; set; }
    }
}
