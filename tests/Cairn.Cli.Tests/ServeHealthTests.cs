using System.Net;
using System.Net.Sockets;
using Cairn.Sqlite;
using Microsoft.Data.Sqlite;

namespace Cairn.Cli.Tests;

/// <summary><c>cairn serve --health-urls</c>, run as a real process: the node's health check answered at <c>/healthz</c>.</summary>
public sealed class ServeHealthTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cairn-serve-health-").FullName;

    private string StorePath => Path.Combine(_dir, "cairn.db");

    [Fact]
    public async Task Serve_HealthUrlsOnLoopback_AnswersHealthyAtHealthz_AndNothingWithoutTheOption()
    {
        var port = FreePort();
        using var node = DotnetProgram.Start("Cairn.Cli.dll", "serve", "--store", StorePath, "--node", "health-node", "--health-urls", $"http://127.0.0.1:{port}");
        var announced = await node.WaitForLineAsync("cairn serve: health at");
        await node.WaitForLineAsync("cairn serve: node health-node");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };

        var response = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/healthz"));

        Assert.Equal($"cairn serve: health at http://127.0.0.1:{port}/healthz", announced);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy", await response.Content.ReadAsStringAsync());
        await node.TerminateAsync();
        Assert.Equal(0, await node.WaitForExitAsync());
        Assert.Throws<SocketException>(() => new TcpClient().Connect(IPAddress.Loopback, port));
    }

    [Fact]
    public async Task Serve_WithoutHealthUrls_AnnouncesNoHealthEndpoint()
    {
        using var node = DotnetProgram.Start("Cairn.Cli.dll", "serve", "--store", StorePath, "--node", "quiet-node");
        await node.WaitForLineAsync("cairn serve: node quiet-node");

        Assert.DoesNotContain(node.Lines, line => line.StartsWith("cairn serve: health", StringComparison.Ordinal));
        await node.TerminateAsync();
        Assert.Equal(0, await node.WaitForExitAsync());
    }

    [Fact]
    public async Task Serve_HealthUrlsOffLoopback_SaysSoAtStart()
    {
        var port = FreePort();
        using var node = DotnetProgram.Start("Cairn.Cli.dll", "serve", "--store", StorePath, "--node", "open-node", "--health-urls", $"http://0.0.0.0:{port}");

        var announced = await node.WaitForLineAsync("cairn serve: health at");

        Assert.EndsWith("which is not a loopback address: whoever can reach it sees this node's health", announced, StringComparison.Ordinal);
        await node.TerminateAsync();
        Assert.Equal(0, await node.WaitForExitAsync());
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }
}
