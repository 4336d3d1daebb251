namespace Cairn.Cli.Demo;

/// <summary>How the order-import flow behaves; the demo and the crash tests use the hooks.</summary>
internal sealed class OrderImportOptions
{
    /// <summary>Orders per insert transaction. Default 250.</summary>
    public int BatchSize { get; init; } = 250;

    /// <summary>A pause after each batch, to make the load visible in the demo. Default none.</summary>
    public TimeSpan BatchPause { get; init; } = TimeSpan.Zero;

    /// <summary>Called after each batch is committed with (batch number, batch count).</summary>
    public Action<int, int>? BatchLoaded { get; init; }
}
