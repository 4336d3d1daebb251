using Cairn.Diagnostics;
using Cairn.Flows;
using Cairn.Runs;
using Cairn.Tests.Support;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Cairn.Tests.Engine;

public sealed class UnknownFlowTests(ITestOutputHelper output) : EngineTest(output)
{
    private static readonly Flow<TestState> Known = Flow.Create<TestState>("known").Stage("a", (_, _) => Task.CompletedTask).Build();

    private static readonly Flow<TestState> Other = Flow.Create<TestState>("other").Stage("a", (_, _) => Task.CompletedTask).Build();

    [Fact]
    public async Task StartAsync_UnfinishedRunsOfAFlowItDoesNotKnow_WarnsWithTheirCountAndFlow()
    {
        await new DeadOwner(Store).LeaveRunningAsync(Known, new TestState(), TimeSpan.FromSeconds(5));
        await new DeadOwner(Store, "dead-1").LeaveRunningAsync(Other, new TestState(), TimeSpan.FromSeconds(5));
        await new DeadOwner(Store, "dead-2").LeaveRunningAsync(Other, new TestState(), TimeSpan.FromSeconds(5));
        Time.Advance(TimeSpan.FromSeconds(10));

        var engine = CreateEngine(Known);
        await engine.StartAsync();

        var warning = Assert.Single(Logs.GetSnapshot(), r => r.Id.Id == CairnEventId.UnknownFlowRuns);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("2 unfinished run(s) belong to flow 'other'", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_UnfinishedRunsAllOfKnownFlows_DoesNotWarn()
    {
        await new DeadOwner(Store).LeaveRunningAsync(Known, new TestState(), TimeSpan.FromSeconds(5));
        await new DeadOwner(Store, "dead-1").LeaveRunningAsync(Known, new TestState(), TimeSpan.FromSeconds(5));
        Time.Advance(TimeSpan.FromSeconds(10));

        var engine = CreateEngine(Known);
        await engine.StartAsync();

        Assert.DoesNotContain(Logs.GetSnapshot(), r => r.Id.Id == CairnEventId.UnknownFlowRuns);
        Assert.Contains(Logs.GetSnapshot(), r => r.Id.Id == CairnEventId.EngineStarted);
    }
}
