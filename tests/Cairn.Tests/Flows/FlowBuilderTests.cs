using Cairn.Flows;
using Cairn.Runs;
using Cairn.Tests.Support;

namespace Cairn.Tests.Flows;

public sealed class FlowBuilderTests
{
    private static readonly Func<StageContext<TestState>, CancellationToken, Task> Noop = (_, _) => Task.CompletedTask;

    [Fact]
    public void Build_ValidFlow_KeepsStepsInOrder()
    {
        var flow = Flow.Create<TestState>("order-import", version: 3)
            .Stage("read", Noop)
            .RecoveryPoint("read-done", "CSV read")
            .Stage("load", Noop)
            .Stage("summarize", Noop)
            .Build();

        Assert.Equal("order-import", flow.Name);
        Assert.Equal(3, flow.Version);
        Assert.Equal(typeof(TestState), flow.StateType);
        Assert.Null(flow.RetryPolicy);
        Assert.Equal(["read", "load", "summarize"], flow.StageNames);
        Assert.Equal(["read-done"], flow.RecoveryPointNames);
        Assert.Equal("order-import v3", flow.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("slash/name")]
    [InlineData("ümlaut")]
    public void Build_InvalidFlowName_ReportsName(string name)
    {
        var error = Assert.Throws<FlowDefinitionException>(() => Flow.Create<TestState>(name).Stage("a", Noop).Build());

        var problem = Assert.Single(error.Problems);
        Assert.Contains($"the flow name '{name}' is invalid", problem, StringComparison.Ordinal);
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_FlowNameTooLong_ReportsName()
    {
        var error = Assert.Throws<FlowDefinitionException>(() => Flow.Create<TestState>(new string('f', 101)).Stage("a", Noop).Build());

        Assert.Contains("1 to 100 letters", Assert.Single(error.Problems), StringComparison.Ordinal);
    }

    [Fact]
    public void Build_NullFlowName_ReportsName()
    {
        var error = Assert.Throws<FlowDefinitionException>(() => Flow.Create<TestState>(null!).Stage("a", Noop).Build());

        Assert.Contains("the flow name", Assert.Single(error.Problems), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-2)]
    public void Build_VersionBelowOne_ReportsVersion(int version)
    {
        var error = Assert.Throws<FlowDefinitionException>(() => Flow.Create<TestState>("f", version).Stage("a", Noop).Build());

        Assert.Equal($"the version is {version}; it must be 1 or more", Assert.Single(error.Problems));
    }

    [Fact]
    public void Build_NoStep_ReportsNoStage()
    {
        var error = Assert.Throws<FlowDefinitionException>(() => Flow.Create<TestState>("f").Build());

        Assert.Equal("it has no stage", Assert.Single(error.Problems));
        Assert.StartsWith("Flow 'f' v1 is invalid: it has no stage", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_DuplicateStageNames_ReportsName()
    {
        var error = Assert.Throws<FlowDefinitionException>(() =>
            Flow.Create<TestState>("f").Stage("load", Noop).Stage("load", Noop).Build());

        Assert.Equal("the name 'load' is used twice; names of stages, recovery points, loops and branches must be unique in the flow", Assert.Single(error.Problems));
    }

    [Fact]
    public void Build_RecoveryPointNamedAsStage_ReportsName()
    {
        var error = Assert.Throws<FlowDefinitionException>(() =>
            Flow.Create<TestState>("f").Stage("load", Noop).RecoveryPoint("load").Stage("write", Noop).Build());

        Assert.Contains("the name 'load' is used twice", Assert.Single(error.Problems), StringComparison.Ordinal);
    }

    [Fact]
    public void Build_NamesDifferingOnlyInCase_AreDistinct()
    {
        var flow = Flow.Create<TestState>("f").Stage("load", Noop).Stage("Load", Noop).Build();

        Assert.Equal(["load", "Load"], flow.StageNames);
    }

    [Theory]
    [InlineData("")]
    [InlineData("two words")]
    [InlineData("a:b")]
    public void Build_InvalidStageName_ReportsPositionAndName(string name)
    {
        var error = Assert.Throws<FlowDefinitionException>(() =>
            Flow.Create<TestState>("f").Stage("first", Noop).Stage(name, Noop).Build());

        Assert.Contains($"the stage at position 2 has the invalid name '{name}'", Assert.Single(error.Problems), StringComparison.Ordinal);
    }

    [Fact]
    public void Build_InvalidRecoveryPointName_ReportsPositionAndName()
    {
        var error = Assert.Throws<FlowDefinitionException>(() =>
            Flow.Create<TestState>("f").Stage("a", Noop).RecoveryPoint("after a").Stage("b", Noop).Build());

        Assert.Contains("the recovery point at position 2 has the invalid name 'after a'", Assert.Single(error.Problems), StringComparison.Ordinal);
    }

    [Fact]
    public void Build_TwoRecoveryPointsInARow_ReportsBoth()
    {
        var error = Assert.Throws<FlowDefinitionException>(() =>
            Flow.Create<TestState>("f").Stage("a", Noop).RecoveryPoint("p1").RecoveryPoint("p2").Stage("b", Noop).Build());

        Assert.Equal("recovery points 'p1' and 'p2' follow each other with no stage between them", Assert.Single(error.Problems));
    }

    [Fact]
    public void Build_RecoveryPointFirst_ReportsIt()
    {
        var error = Assert.Throws<FlowDefinitionException>(() =>
            Flow.Create<TestState>("f").RecoveryPoint("start").Stage("a", Noop).Build());

        Assert.Equal("recovery point 'start' comes before any stage; the input is saved when the run starts", Assert.Single(error.Problems));
    }

    [Fact]
    public void Build_RecoveryPointLast_ReportsIt()
    {
        var error = Assert.Throws<FlowDefinitionException>(() =>
            Flow.Create<TestState>("f").Stage("a", Noop).RecoveryPoint("end").Build());

        Assert.Equal("recovery point 'end' is the last step; the result is saved when the run completes", Assert.Single(error.Problems));
    }

    [Fact]
    public void Build_OnlyRecoveryPoints_ReportsNoStage()
    {
        var error = Assert.Throws<FlowDefinitionException>(() => Flow.Create<TestState>("f").RecoveryPoint("p").Build());

        Assert.Contains("it has no stage", error.Problems);
    }

    [Fact]
    public void Build_SeveralProblems_ReportsEveryOne()
    {
        var error = Assert.Throws<FlowDefinitionException>(() =>
            Flow.Create<TestState>("bad name", version: 0)
                .RecoveryPoint("p0")
                .Stage("a", Noop)
                .Stage("a", Noop)
                .RecoveryPoint("p1")
                .RecoveryPoint("p2")
                .Stage("b c", Noop)
                .RecoveryPoint("p3")
                .Build());

        Assert.Equal(7, error.Problems.Count);
        Assert.Contains(error.Problems, p => p.Contains("the flow name 'bad name' is invalid", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.Contains("the version is 0", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.Contains("recovery point 'p0' comes before any stage", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.Contains("the name 'a' is used twice", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.Contains("recovery points 'p1' and 'p2' follow each other", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.Contains("invalid name 'b c'", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.Contains("recovery point 'p3' is the last step", StringComparison.Ordinal));
        foreach (var problem in error.Problems)
        {
            Assert.Contains(problem, error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void ImplicitRecovery_ThreeStages_AddsPointBetweenStagesButNotAfterLast()
    {
        var flow = Flow.Create<TestState>("f").ImplicitRecovery().Stage("read", Noop).Stage("load", Noop).Stage("write", Noop).Build();

        Assert.Equal(["after-read", "after-load"], flow.RecoveryPointNames);
        Assert.Equal(["read", "after-read", "load", "after-load", "write"], flow.Steps.Select(s => s.Name));
        Assert.Equal("read done", flow.Steps.OfType<RecoveryPointStep>().First().StatusMessage);
    }

    [Fact]
    public void ImplicitRecovery_ExplicitPointPresent_DoesNotDuplicateIt()
    {
        var flow = Flow.Create<TestState>("f")
            .ImplicitRecovery()
            .Stage("read", Noop)
            .RecoveryPoint("read-checked", "rows counted")
            .Stage("load", Noop)
            .Stage("write", Noop)
            .Build();

        Assert.Equal(["read", "read-checked", "load", "after-load", "write"], flow.Steps.Select(s => s.Name));
    }

    [Fact]
    public void ImplicitRecovery_SingleStage_AddsNoPoint()
    {
        var flow = Flow.Create<TestState>("f").ImplicitRecovery().Stage("only", Noop).Build();

        Assert.Empty(flow.RecoveryPointNames);
    }

    [Fact]
    public void ImplicitRecovery_Disabled_AddsNoPoint()
    {
        var flow = Flow.Create<TestState>("f").ImplicitRecovery().ImplicitRecovery(enabled: false).Stage("a", Noop).Stage("b", Noop).Build();

        Assert.Empty(flow.RecoveryPointNames);
    }

    [Fact]
    public void ImplicitRecovery_GeneratedNameTakenByStage_ReportsDuplicate()
    {
        var error = Assert.Throws<FlowDefinitionException>(() =>
            Flow.Create<TestState>("f").ImplicitRecovery().Stage("a", Noop).Stage("after-a", Noop).Build());

        Assert.Contains("the name 'after-a' is used twice", Assert.Single(error.Problems), StringComparison.Ordinal);
    }

    [Fact]
    public void Stage_ClassAndGenericForms_AreStages()
    {
        var flow = Flow.Create<TestState>("f").Stage("instance", new AddOne()).Stage<AddOne>("generic").Build();

        Assert.Equal(["instance", "generic"], flow.StageNames);
    }

    [Fact]
    public void Stage_NullDelegate_Throws()
    {
        Assert.Throws<ArgumentNullException>(() => Flow.Create<TestState>("f").Stage("a", (Func<StageContext<TestState>, CancellationToken, Task>)null!));
    }

    [Fact]
    public void Retry_Policy_IsKeptOnTheFlow()
    {
        var policy = RetryPolicy.Default with { MaxRetries = 7 };

        var flow = Flow.Create<TestState>("f").Stage("a", Noop).Retry(policy).Build();

        Assert.Same(policy, flow.RetryPolicy);
    }

    [Fact]
    public void Retry_Configure_StartsFromDefault()
    {
        var flow = Flow.Create<TestState>("f").Stage("a", Noop).Retry(p => p with { MaxRetries = 1 }).Build();

        Assert.Equal(RetryPolicy.Default with { MaxRetries = 1 }, flow.RetryPolicy);
    }

    [Theory]
    [InlineData(-1, 10, 2.0, 300, 1, "MaxRetries is -1")]
    [InlineData(3, -1, 2.0, 300, 1, "Interval is -00:00:01")]
    [InlineData(3, 10, 0.5, 300, 1, "BackoffFactor is 0.5")]
    [InlineData(3, 10, 2.0, 5, 1, "MaxInterval (00:00:05) is shorter than Interval (00:00:10)")]
    [InlineData(3, 10, 2.0, 300, 0, "Window is 00:00:00")]
    public void Build_InvalidRetryPolicy_ReportsIt(int maxRetries, int intervalSeconds, double backoff, int maxIntervalSeconds, int windowDays, string expected)
    {
        var policy = new RetryPolicy
        {
            MaxRetries = maxRetries,
            Interval = TimeSpan.FromSeconds(intervalSeconds),
            BackoffFactor = backoff,
            MaxInterval = TimeSpan.FromSeconds(maxIntervalSeconds),
            Window = TimeSpan.FromDays(windowDays),
        };

        var error = Assert.Throws<FlowDefinitionException>(() => Flow.Create<TestState>("f").Stage("a", Noop).Retry(policy).Build());

        var problem = Assert.Single(error.Problems);
        Assert.Contains("retry policy", problem, StringComparison.Ordinal);
        Assert.Contains(expected, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_InvalidRetryPolicyAndOtherProblems_ReportsAll()
    {
        var error = Assert.Throws<FlowDefinitionException>(() =>
            Flow.Create<TestState>("f").Retry(new RetryPolicy { MaxRetries = -1 }).Build());

        Assert.Equal(2, error.Problems.Count);
        Assert.Contains("it has no stage", error.Problems);
        Assert.Contains(error.Problems, p => p.Contains("MaxRetries is -1", StringComparison.Ordinal));
    }

    private sealed class AddOne : IStage<TestState>
    {
        public Task ExecuteAsync(StageContext<TestState> context, CancellationToken cancellationToken)
        {
            context.State.Value++;
            return Task.CompletedTask;
        }
    }
}
