using Cairn.Flows;
using Cairn.Tests.Support;
using System.Diagnostics.Metrics;
using Cairn.Diagnostics;
using Cairn.Runs;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;

namespace Cairn.Tests.Hosting;

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

    [Fact]
    public async Task AddCairn_ConfigurationSection_BindsTheOptions()
    {
        var services = new ServiceCollection();
        services.AddCairn(Configuration(new()
        {
            ["Cairn:NodeName"] = "node-a",
            ["Cairn:MaxConcurrentRuns"] = "5",
            ["Cairn:PollInterval"] = "00:00:02",
            ["Cairn:RetentionPeriod"] = "1.00:00:00",
            ["Cairn:ResumeInterruptedRuns"] = "AfterRetryInterval",
            ["Cairn:DefaultRetryPolicy:MaxRetries"] = "7",
        }), c => c.UseInMemoryStore().AddFlow(Greeting));
        await using var provider = services.BuildServiceProvider();

        provider.GetRequiredService<IStartupValidator>().Validate();
        var engine = provider.GetRequiredService<CairnEngine>();

        Assert.Equal("node-a", engine.NodeName);
        Assert.Equal(5, engine.Options.MaxConcurrentRuns);
        Assert.Equal(TimeSpan.FromSeconds(2), engine.Options.PollInterval);
        Assert.Equal(TimeSpan.FromDays(1), engine.Options.RetentionPeriod);
        Assert.Equal(InterruptedRunResume.AfterRetryInterval, engine.Options.ResumeInterruptedRuns);
        Assert.Equal(7, engine.Options.DefaultRetryPolicy.MaxRetries);
        Assert.Equal(3, RetryPolicy.Default.MaxRetries);
    }

    [Fact]
    public async Task AddCairn_ConfigurationAndBuilder_BuilderWinsAndLeavesTheBoundOptionsAlone()
    {
        var services = new ServiceCollection();
        services.AddCairn(
            Configuration(new() { ["Cairn:MaxConcurrentRuns"] = "5", ["Cairn:PollInterval"] = "00:00:02" }),
            c => c.UseInMemoryStore().Configure(o => o.MaxConcurrentRuns = 9));
        await using var provider = services.BuildServiceProvider();

        var engine = provider.GetRequiredService<CairnEngine>();

        Assert.Equal(9, engine.Options.MaxConcurrentRuns);
        Assert.Equal(TimeSpan.FromSeconds(2), engine.Options.PollInterval);
        Assert.Equal(5, provider.GetRequiredService<IOptions<CairnOptions>>().Value.MaxConcurrentRuns);
    }

    [Theory]
    [InlineData("Cairn:MaxConcurrentRuns", "0", "Cairn:MaxConcurrentRuns is 0; it must be 1 or more")]
    [InlineData("Cairn:LeaseDuration", "00:00:00.5", "Cairn:LeaseDuration is 00:00:00.5000000; it must be at least 1 second")]
    [InlineData("Cairn:DefaultRetryPolicy:MaxRetries", "-1", "Cairn:DefaultRetryPolicy:MaxRetries is -1; it must be 0 or more")]
    public async Task AddCairn_InvalidConfigurationValue_FailsStartNamingKeyAndValue(string key, string value, string expected)
    {
        var services = new ServiceCollection();
        services.AddCairn(Configuration(new() { [key] = value }), c => c.UseInMemoryStore());
        await using var provider = services.BuildServiceProvider();

        // What the host calls in StartAsync before any hosted service starts.
        var error = Assert.Throws<OptionsValidationException>(provider.GetRequiredService<IStartupValidator>().Validate);

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddCairn_UnconvertibleConfigurationValue_FailsStartNamingKeyAndValue()
    {
        var services = new ServiceCollection();
        services.AddCairn(Configuration(new() { ["Cairn:PollInterval"] = "soon" }), c => c.UseInMemoryStore());
        await using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<InvalidOperationException>(provider.GetRequiredService<IStartupValidator>().Validate);

        Assert.Contains("'soon'", error.Message, StringComparison.Ordinal);
        Assert.Contains("'Cairn:PollInterval'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddCairn_MeterFactoryRegistered_RecordsOnTheFactorysMeter()
    {
        using var meterFactory = new TestMeterFactory();
        var services = new ServiceCollection();
        services.AddSingleton<IMeterFactory>(meterFactory);
        services.AddCairn(c => c.UseInMemoryStore().AddFlow(Greeting));
        await using var provider = services.BuildServiceProvider();
        using var attempts = new MetricCollector<long>(meterFactory, Telemetry.Name, "cairn.run.attempts");

        var engine = provider.GetRequiredService<CairnEngine>();
        var outcome = await engine.RunAsync(Greeting, new TestState()).WaitAsync(EngineTest.Timeout);

        Assert.True(outcome.IsCompleted);
        // The attempt counts its outcome after it handed the result to the waiter: wait for the measurement.
        await attempts.WaitForMeasurementsAsync(minCount: 1, EngineTest.Timeout);
        var measurement = Assert.Single(attempts.GetMeasurementSnapshot());
        Assert.Equal(1, measurement.Value);
        Assert.Equal("greeting", measurement.Tags[Telemetry.FlowTag]);
        Assert.Equal("completed", measurement.Tags[Telemetry.OutcomeTag]);
        Assert.Same(meterFactory, attempts.Instrument!.Meter.Scope);
    }

    [Fact]
    public async Task AddCairn_LoggerFactoryRegistered_LogsWithTheEventIdConstantsAndTheEngineCategory()
    {
        using var logs = new FakeLoggerProvider();
        var services = new ServiceCollection();
        services.AddSingleton<ILoggerFactory>(new LoggerFactory([logs]));
        services.AddCairn(c => c.UseInMemoryStore().AddFlow(Greeting));
        await using var provider = services.BuildServiceProvider();

        var engine = provider.GetRequiredService<CairnEngine>();
        var outcome = await engine.RunAsync(Greeting, new TestState()).WaitAsync(EngineTest.Timeout);
        await engine.StopAsync();

        var records = logs.Collector.GetSnapshot();
        var started = Assert.Single(records, r => r.Id.Id == CairnEventId.EngineStarted);
        Assert.Equal("Cairn.Engine", started.Category);
        Assert.Equal(nameof(Log.EngineStarted), started.Id.Name);
        var completed = Assert.Single(records, r => r.Id.Id == CairnEventId.RunCompleted);
        Assert.Equal("Cairn.Engine", completed.Category);
        Assert.Contains(new KeyValuePair<string, string?>("RunId", outcome.RunId.ToString()), completed.StructuredState!);
        Assert.Contains(new KeyValuePair<string, string?>("{OriginalFormat}", "Run {RunId} of flow {Flow} completed"), completed.StructuredState!);
        Assert.All(records, r => Assert.Equal("Cairn.Engine", r.Category));
    }

    private static IConfigurationSection Configuration(Dictionary<string, string?> values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values).Build().GetSection("Cairn");
}
