using System.Net;
using Cairn.Sqlite;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cairn.AspNetCore.Tests;

public sealed class HostingTests
{
    [Fact]
    public async Task AddCairnConsole_BadOptions_FailsTheStartNamingTheValue()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            await using var host = await ConsoleHost.StartAsync(failed: 0, completed: 0, options: o => o.MaxBulkRuns = 0);
        });

        Assert.Contains("Invalid Cairn console options: CairnConsoleOptions.MaxBulkRuns is 0: it must be between 1 and 1,000,000.", error.Message);
    }

    [Fact]
    public async Task MapCairnConsole_NoOperator_SaysHowToRegisterOne()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await using var host = await ConsoleHost.StartAsync(failed: 0, completed: 0, registerOperator: false);
        });

        Assert.StartsWith("The Cairn console needs a RunOperator", error.Message);
    }

    [Fact]
    public async Task MapCairnConsole_BadPrefix_IsRefused()
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        await using var app = builder.Build();

        var error = Assert.Throws<ArgumentException>(() => app.MapCairnConsole("cairn"));

        Assert.StartsWith("The Cairn console's prefix must start with '/'", error.Message);
    }

    [Fact]
    public async Task AddCairnConsole_HostedEngine_UsesTheEnginesOperator()
    {
        var path = Path.Combine(Path.GetTempPath(), $"cairn-console-{Guid.NewGuid():N}.db");
        try
        {
            var builder = WebApplication.CreateBuilder();
            builder.WebHost.UseTestServer();
            builder.Logging.ClearProviders();
            builder.Services.AddCairn(c => c.UseSqlite(path).AddFlow(ConsoleHost.OrderFlow).Configure(o =>
            {
                o.RetentionPeriod = TimeSpan.FromDays(30);
                o.PurgeInterval = TimeSpan.FromMinutes(20);
            }));
            builder.Services.AddCairnConsole();
            await using (var app = builder.Build())
            {
                app.Use((context, next) =>
                {
                    context.Connection.RemoteIpAddress = IPAddress.Loopback;
                    return next(context);
                });
                app.MapCairnConsole("/ops");
                await app.StartAsync();
                var engine = app.Services.GetRequiredService<CairnEngine>();
                var run = await engine.RunAsync(ConsoleHost.OrderFlow, new ConsoleHost.Order { Id = "E1", Fail = true }, "engine-1");
                using var client = app.GetTestClient();

                var page = await Json.ReadAsync(await client.GetAsync("/ops/api/runs?recoveryId=engine-1"));

                Assert.Equal("Failed", Assert.Single(page.GetProperty("runs").EnumerateArray()).GetProperty("status").GetString());
                var purge = await Json.ReadAsync(await client.GetAsync("/ops/api/purge"));
                Assert.True(purge.GetProperty("known").GetBoolean());
                Assert.Equal(TimeSpan.FromDays(30), TimeSpan.Parse(purge.GetProperty("retentionPeriod").GetString()!, System.Globalization.CultureInfo.InvariantCulture));
                Assert.Equal(TimeSpan.FromMinutes(20), TimeSpan.Parse(purge.GetProperty("interval").GetString()!, System.Globalization.CultureInfo.InvariantCulture));
                await app.StopAsync();
            }

        }
        finally
        {
            foreach (var file in new[] { path, path + "-wal", path + "-shm", path + ".lock" })
            {
                File.Delete(file);
            }
        }
    }
}
