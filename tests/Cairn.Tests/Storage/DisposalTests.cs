using Cairn.Storage;

namespace Cairn.Tests.Storage;

public sealed class DisposalTests
{
    [Fact]
    public async Task StartedAsync_StartSucceeds_HandsOverTheResourceUndisposed()
    {
        var resource = new Resource();

        var started = await Disposal.StartedAsync(resource, (r, _) => r.StartAsync(fail: false), CancellationToken.None);

        Assert.Same(resource, started);
        Assert.True(resource.Started);
        Assert.False(resource.Disposed);
    }

    [Fact]
    public async Task StartedAsync_StartFails_DisposesTheResourceAndRethrows()
    {
        var resource = new Resource();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => Disposal.StartedAsync(resource, (r, _) => r.StartAsync(fail: true), CancellationToken.None));

        Assert.Equal("start failed", error.Message);
        Assert.True(resource.Disposed);
    }

    [Fact]
    public async Task StartedAsync_PassesTheCancellationToken()
    {
        using var cancellation = new CancellationTokenSource();
        CancellationToken seen = default;

        await Disposal.StartedAsync(new Resource(), (_, ct) => { seen = ct; return Task.CompletedTask; }, cancellation.Token);

        Assert.Equal(cancellation.Token, seen);
    }

    private sealed class Resource : IAsyncDisposable
    {
        public bool Started { get; private set; }

        public bool Disposed { get; private set; }

        public async Task StartAsync(bool fail)
        {
            await Task.Yield();
            Started = !fail;
            if (fail)
            {
                throw new InvalidOperationException("start failed");
            }
        }

        public ValueTask DisposeAsync()
        {
            Disposed = true;
            return ValueTask.CompletedTask;
        }
    }
}
