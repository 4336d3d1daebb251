using System.Net;

namespace Cairn.AspNetCore.Tests.Security;

/// <summary>
/// Every endpoint × every caller. Anonymous callers meet a console with no authorization configured (loopback only);
/// the viewer and the operator, both remote, meet one with the built-in policies; "policies" is an anonymous loopback
/// caller of that console. Writes go to an unknown run, so an allowed one answers 404 and changes nothing.
/// </summary>
public sealed class AuthorizationMatrixTests
{
    private static readonly string Unknown = RunId.New().ToString();

    /// <summary>Endpoint, allowed status, and the status per caller: anonymous loopback, anonymous remote, viewer, operator, anonymous with policies.</summary>
    public static TheoryData<string, string, int[]> Matrix => new()
    {
        { "GET", "/runs", [200, 403, 200, 200, 401] },
        { "GET", "/runs/{failed}", [200, 403, 200, 200, 401] },
        { "GET", "/runs/{failed}/checkpoints/1", [200, 403, 200, 200, 401] },
        { "POST", $"/runs/{Unknown}/rerun", [404, 403, 403, 404, 401] },
        { "POST", $"/runs/{Unknown}/rerun-from", [404, 403, 403, 404, 401] },
        { "POST", $"/runs/{Unknown}/cancel?compensate=true", [404, 403, 403, 404, 401] },
        { "POST", "/runs/bulk/rerun?status=Failed&dryRun=true", [200, 403, 403, 200, 401] },
        { "POST", "/runs/bulk/cancel?status=Failed&dryRun=true", [200, 403, 403, 200, 401] },
        { "GET", "/purge", [200, 403, 200, 200, 401] },
        { "POST", "/purge?olderThan=36500d", [200, 403, 403, 200, 401] },
        { "GET", "/outbox", [200, 403, 200, 200, 401] },
        { "POST", "/outbox/redrive", [200, 403, 403, 200, 401] },
        { "GET", "/summary", [200, 403, 200, 200, 401] },
        { "GET", "/flows", [200, 403, 200, 200, 401] },
        { "GET", "/antiforgery", [200, 403, 200, 200, 401] },
        { "GET", "/openapi.json", [200, 403, 200, 200, 401] },
    };

    [Theory]
    [MemberData(nameof(Matrix))]
    public async Task Endpoint_EachCaller_GetsItsStatus(string method, string path, int[] expected)
    {
        await using var open = await ConsoleHost.StartAsync(failed: 1, completed: 0);
        await using var secured = await ConsoleHost.StartAsync(failed: 1, completed: 0, options: o =>
        {
            o.ViewerPolicy = CairnConsoleDefaults.ViewerPolicy;
            o.OperatorPolicy = CairnConsoleDefaults.OperatorPolicy;
        });

        var actual = new[]
        {
            await StatusAsync(open, method, path, Caller.AnonymousLoopback),
            await StatusAsync(open, method, path, Caller.AnonymousRemote),
            await StatusAsync(secured, method, path, Caller.Viewer),
            await StatusAsync(secured, method, path, Caller.Operator),
            await StatusAsync(secured, method, path, Caller.AnonymousLoopback, withToken: false),
        };

        Assert.Equal(expected, actual);
    }

    private static async Task<int> StatusAsync(ConsoleHost host, string method, string path, Caller caller, bool withToken = true)
    {
        if (path.Contains("{failed}", StringComparison.Ordinal))
        {
            path = path.Replace("{failed}", (await host.RunAsync(RunStatus.Failed)).Id.ToString(), StringComparison.Ordinal);
        }

        using var response = await host.SendAsync(new HttpMethod(method), "/cairn/api" + path, caller, withToken: withToken);
        return (int)response.StatusCode;
    }
}
