using Cairn.Flows;
using Cairn.StoreContract;
using Cairn.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Cairn.Tests.Engine;

/// <summary>The registrations of <c>AddCairn</c>, resolved by the Microsoft.Extensions container.</summary>
public sealed class DependencyInjectionTests
{
    private static readonly Flow<TestState> Greeting = Flow.Create<TestState>("greeting")
        .Stage("hello", (context, _) =>
        {
            context.State.Trace.Add("hello");
            return Task.CompletedTask;
        })
        .Build();

    [Fact]
    public void AddCairn_InMemoryStore_RegistersOneEngineAndOneHostedService()
    {
        var services = new ServiceCollection();

        services.AddCairn(c => c.UseInMemoryStore().AddFlow(Greeting));

        var engine = Assert.Single(services, d => d.ServiceType == typeof(CairnEngine));
        Assert.Equal(ServiceLifetime.Singleton, engine.Lifetime);
        var hosted = Assert.Single(services, d => d.ServiceType == typeof(IHostedService));
        Assert.Equal(ServiceLifetime.Singleton, hosted.Lifetime);
    }

    [Fact]
    public async Task AddCairn_Resolved_EngineRunsFlowsAndHostedServiceStartsAndStopsIt()
    {
        var time = new FakeTimeProvider();
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(time);
        services.AddCairn(c => c.UseInMemoryStore().AddFlow(Greeting));
        await using var provider = services.BuildServiceProvider();

        var engine = provider.GetRequiredService<CairnEngine>();
        var hosted = Assert.Single(provider.GetServices<IHostedService>());
        await hosted.StartAsync(CancellationToken.None);
        var outcome = await engine.RunAsync(Greeting, new TestState()).WaitAsync(EngineTest.Timeout);
        await hosted.StopAsync(CancellationToken.None);

        Assert.Same(engine, provider.GetRequiredService<CairnEngine>());
        Assert.Same(time, engine.TimeProvider);
        Assert.IsType<Cairn.Storage.InMemoryRunStore>(engine.Store);
        Assert.Contains(Greeting, engine.Flows);
        Assert.True(outcome.IsCompleted);
        Assert.Equal(["hello"], outcome.Result!.Trace);
        Assert.True(engine.IsStopping);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => engine.StartRunAsync(Greeting, new TestState()));
    }

    [Fact]
    public void AddCairn_CalledTwice_KeepsOneEngine()
    {
        var services = new ServiceCollection();

        services.AddCairn(c => c.UseInMemoryStore().AddFlow(Greeting));
        services.AddCairn(c => c.UseInMemoryStore());

        Assert.Single(services, d => d.ServiceType == typeof(CairnEngine));
        Assert.Single(services, d => d.ServiceType == typeof(IHostedService));
    }
}
