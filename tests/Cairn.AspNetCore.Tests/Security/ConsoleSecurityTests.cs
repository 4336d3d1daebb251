using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Cairn.AspNetCore.Tests.Security;

public sealed class ConsoleSecurityTests
{
    [Fact]
    public async Task RemoteRequest_NoAuthorizationConfigured_Returns403WithOneLine()
    {
        await using var host = await ConsoleHost.StartAsync(failed: 0, completed: 0);

        var detail = await Json.ProblemAsync(await host.SendAsync(HttpMethod.Get, "/cairn/api/runs", Caller.AnonymousRemote), HttpStatusCode.Forbidden);

        Assert.StartsWith("The Cairn console answers only loopback requests", detail);
    }

    [Theory]
    [InlineData("127.0.0.1", "localhost", HttpStatusCode.OK)]
    [InlineData("127.8.9.10", "localhost", HttpStatusCode.OK)]
    [InlineData("::1", "localhost", HttpStatusCode.OK)]
    [InlineData("::ffff:127.0.0.1", "localhost", HttpStatusCode.OK)]
    [InlineData("::ffff:10.0.0.1", "localhost", HttpStatusCode.Forbidden)]
    [InlineData("10.0.0.1", "localhost", HttpStatusCode.Forbidden)]
    [InlineData("fe80::1", "localhost", HttpStatusCode.Forbidden)]
    [InlineData("127.0.0.1", "127.0.0.1:5005", HttpStatusCode.OK)]
    [InlineData("127.0.0.1", "[::1]:5005", HttpStatusCode.OK)]
    [InlineData("127.0.0.1", "evil.example:5005", HttpStatusCode.Forbidden)]
    public async Task Request_NoAuthorizationConfigured_OnlyLoopbackAddressesAndNamesAreAnswered(string address, string hostHeader, HttpStatusCode expected)
    {
        await using var host = await ConsoleHost.StartAsync(failed: 0, completed: 0);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/cairn/api/runs");
        request.Headers.Add("X-Test-Remote", address);
        request.Headers.Host = hostHeader;

        using var response = await host.Client.SendAsync(request);

        Assert.Equal(expected, response.StatusCode);
    }

    [Fact]
    public async Task Write_WithoutAntiforgeryToken_IsRefusedAndChangesNothing()
    {
        await using var host = await ConsoleHost.StartAsync(failed: 1, completed: 0);
        var run = await host.RunAsync(RunStatus.Failed);

        var detail = await Json.ProblemAsync(
            await host.SendAsync(HttpMethod.Post, $"/cairn/api/runs/{run.Id}/rerun", withToken: false), HttpStatusCode.BadRequest);

        Assert.StartsWith("This request changes runs and needs an anti-forgery token", detail);
        Assert.Equal(RunStatus.Failed, (await host.Operator.GetRunAsync(run.Id))!.Status);
    }

    [Fact]
    public async Task Write_BrowserSessionWithoutToken_IsRefused_WithToken_IsDone()
    {
        await using var host = await Secured();
        var run = await host.RunAsync(RunStatus.Failed);

        using var forged = ConsoleHost.Request(HttpMethod.Post, $"/cairn/api/runs/{run.Id}/rerun", Caller.AnonymousRemote);
        forged.Headers.Add("X-Test-User", "bob:" + CairnConsoleDefaults.OperatorRole);
        using var refused = await host.Client.SendAsync(forged);
        using var genuine = ConsoleHost.Request(HttpMethod.Post, $"/cairn/api/runs/{run.Id}/rerun", Caller.AnonymousRemote);
        genuine.Headers.Add("X-Test-User", "bob:" + CairnConsoleDefaults.OperatorRole);
        await host.AddTokenAsync(genuine, Caller.AnonymousRemote, sessionUser: "bob:" + CairnConsoleDefaults.OperatorRole);
        using var done = await host.Client.SendAsync(genuine);

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, done.StatusCode);
        Assert.Contains(await host.Operator.GetEventsAsync(run.Id), e => e.Message.Contains("re-run requested by bob from the console", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Write_ApiClientWithAuthorizationHeader_NeedsNoTokenAndIsNamedInTheEvent()
    {
        await using var host = await Secured();
        var run = await host.RunAsync(RunStatus.Failed);

        using var response = await host.SendAsync(HttpMethod.Post, $"/cairn/api/runs/{run.Id}/cancel", Caller.Operator);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(await host.Operator.GetEventsAsync(run.Id), e => e.Kind == RunEventKind.Cancelled && e.Message.Contains("cancelled by alice from the console", StringComparison.Ordinal));
    }

    [Fact]
    public async Task HostPolicy_OnTheGroup_ReplacesTheConsolesPolicies()
    {
        await using var host = await ConsoleHost.StartAsync(
            failed: 1,
            completed: 0,
            options: o => o.OperatorPolicy = CairnConsoleDefaults.OperatorPolicy,
            services: s => s.AddAuthorization(a => a.AddPolicy("admins", p => p.RequireRole("admin"))),
            group: g => g.RequireAuthorization("admins"));
        var run = await host.RunAsync(RunStatus.Failed);

        // A console operator who is no admin is refused even a read; an admin without the console's roles may write.
        using var operatorRead = await host.SendAsync(HttpMethod.Get, "/cairn/api/runs", Caller.Operator);
        using var admin = ConsoleHost.Request(HttpMethod.Post, $"/cairn/api/runs/{run.Id}/rerun", Caller.AnonymousRemote);
        admin.Headers.Authorization = new("Test", "root:admin");
        using var adminWrite = await host.Client.SendAsync(admin);

        Assert.Equal(HttpStatusCode.Forbidden, operatorRead.StatusCode);
        Assert.Equal(HttpStatusCode.OK, adminWrite.StatusCode);
    }

    [Fact]
    public async Task HostPolicy_Default_ReplacesTheLoopbackRule()
    {
        await using var host = await ConsoleHost.StartAsync(failed: 0, completed: 0, group: g => g.RequireAuthorization());

        using var anonymousLoopback = await host.SendAsync(HttpMethod.Get, "/cairn/api/runs");
        using var remoteUser = ConsoleHost.Request(HttpMethod.Get, "/cairn/api/runs", Caller.AnonymousRemote);
        remoteUser.Headers.Authorization = new("Test", "carol");
        using var remote = await host.Client.SendAsync(remoteUser);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymousLoopback.StatusCode);
        Assert.Equal(HttpStatusCode.OK, remote.StatusCode);
    }

    [Fact]
    public async Task DefaultPolicies_HostDefinedSameName_KeepsTheHosts()
    {
        await using var host = await ConsoleHost.StartAsync(
            failed: 0,
            completed: 0,
            services: s => s.AddAuthorization(a => a.AddPolicy(CairnConsoleDefaults.ViewerPolicy, p => p.RequireRole("auditor"))));

        var policy = await host.Services.GetRequiredService<IAuthorizationPolicyProvider>().GetPolicyAsync(CairnConsoleDefaults.ViewerPolicy);

        var roles = Assert.IsType<Microsoft.AspNetCore.Authorization.Infrastructure.RolesAuthorizationRequirement>(Assert.Single(policy!.Requirements));
        Assert.Equal(["auditor"], roles.AllowedRoles);
    }

    [Fact]
    public async Task Antiforgery_Token_NamesItsHeader()
    {
        await using var host = await ConsoleHost.StartAsync(failed: 0, completed: 0);

        var token = await Json.ReadAsync(await host.SendAsync(HttpMethod.Get, "/cairn/api/antiforgery"));

        Assert.Equal("RequestVerificationToken", token.GetProperty("headerName").GetString());
        Assert.False(string.IsNullOrEmpty(token.GetProperty("token").GetString()));
    }

    private static Task<ConsoleHost> Secured() => ConsoleHost.StartAsync(failed: 1, completed: 0, options: o =>
    {
        o.ViewerPolicy = CairnConsoleDefaults.ViewerPolicy;
        o.OperatorPolicy = CairnConsoleDefaults.OperatorPolicy;
    });
}
