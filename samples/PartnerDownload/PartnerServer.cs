using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace PartnerDownload;

/// <summary>
/// The partner's file server, on 127.0.0.1: <c>GET /orders.csv</c> sends a CSV of <c>rows</c> orders, generated as it is
/// sent (the same rows every time), never held whole in memory. It counts the downloads it served.
/// </summary>
public sealed class PartnerServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _downloads;

    private PartnerServer(WebApplication app) => _app = app;

    /// <summary>The file's address.</summary>
    public Uri FileAddress { get; private set; } = null!;

    /// <summary>How many downloads of the file this server served.</summary>
    public int Downloads => Volatile.Read(ref _downloads);

    /// <param name="rows">How many orders the file holds.</param>
    /// <param name="pauseAfterRows">Stops sending after this many rows and waits there, to be killed mid-download (for the crash test); 0 never.</param>
    public static async Task<PartnerServer> StartAsync(int rows, int pauseAfterRows = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new PartnerServer(app);
        app.MapGet("/orders.csv", async (HttpContext context) =>
        {
            Interlocked.Increment(ref server._downloads);
            context.Response.ContentType = "text/csv";
            await using var writer = new StreamWriter(context.Response.Body, new UTF8Encoding(false), bufferSize: 64 * 1024);
            await writer.WriteLineAsync("order_id,customer,sku,quantity,price");
            for (var row = 1; row <= rows; row++)
            {
                await writer.WriteLineAsync(Row(row));
                if (row == pauseAfterRows)
                {
                    await writer.FlushAsync();
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"PAUSED download after {row} rows"));
                    await Task.Delay(Timeout.Infinite, context.RequestAborted);
                }
            }
        });
        await app.StartAsync();
        server.FileAddress = new Uri(app.Urls.Single().TrimEnd('/') + "/orders.csv");
        return server;
    }

    /// <summary>Row <paramref name="row"/> of the file, the same on every download.</summary>
    public static string Row(int row) => string.Create(
        CultureInfo.InvariantCulture,
        $"PO-{row:D8},customer-{row % 997},SKU-{row % 131:D4},{1 + (row % 9)},{(row % 5000) / 100m + 0.99m}");

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
