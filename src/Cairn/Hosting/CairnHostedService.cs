using Microsoft.Extensions.Hosting;

namespace Cairn.Hosting;

/// <summary>Starts the engine with the host and stops it gracefully when the host stops.</summary>
internal sealed class CairnHostedService(CairnEngine engine) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => engine.StartAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => engine.StopAsync(cancellationToken);
}
