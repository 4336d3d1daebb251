using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Cairn.Flows;
using Cairn.Runs;
using Cairn.Serialization;
using Cairn.Storage;

namespace Cairn.StoreContract;

public abstract partial class RunStoreContract
{
    // ---- Listing runs

    [Fact]
    public async Task ListRunsAsync_NoFilter_ReturnsAllRunsNewestFirst()
    {
        var first = await CreateAsync(recoveryId: "1");
        Time.Advance(TimeSpan.FromSeconds(1));
        var second = await CreateAsync("invoices", "2");
        Time.Advance(TimeSpan.FromSeconds(1));
        var third = await CreateAsync(recoveryId: "3");

        var runs = await Store.ListRunsAsync(new RunQuery(), Ct);

        Assert.Equal([third.Id, second.Id, first.Id], runs.Select(r => r.Id));
        Assert.Equal(third, runs[0]);
    }

    [Fact]
    public async Task ListRunsAsync_SameCreationTime_OrdersByRunIdDescending()
    {
        Guid[] ids =
        [
            Guid.Parse("0f000000-0000-0000-0000-000000000000"),
            Guid.Parse("f0000000-0000-0000-0000-000000000000"),
            Guid.Parse("0f000000-0000-0000-0000-0000000000ff"),
            Guid.Parse("0f000000-ffff-0000-0000-000000000000"),
        ];
        foreach (var id in ids)
        {
            await Store.CreateRunAsync(NewRun(recoveryId: id.ToString()) with { Id = new RunId(id) }, Ct);
        }

        var runs = await Store.ListRunsAsync(new RunQuery(), Ct);

        Assert.Equal(ids.OrderByDescending(id => id), runs.Select(r => r.Id.Value));
    }

    [Fact]
    public async Task ListRunsAsync_StatusFilter_ReturnsOnlyRunsInThoseStatuses()
    {
        var failed = await CreateInStatusAsync(RunStatus.Failed, "flow-failed");
        Time.Advance(TimeSpan.FromSeconds(1));
        await CreateInStatusAsync(RunStatus.Running, "flow-running");
        Time.Advance(TimeSpan.FromSeconds(1));
        var pending = await CreateAsync();

        var runs = await Store.ListRunsAsync(new RunQuery { Statuses = [RunStatus.Pending, RunStatus.Failed] }, Ct);

        Assert.Equal([pending.Id, failed.Id], runs.Select(r => r.Id));
        Assert.Empty(await Store.ListRunsAsync(new RunQuery { Statuses = [RunStatus.Completed] }, Ct));
    }

    [Fact]
    public async Task ListRunsAsync_FlowFilter_ReturnsOnlyThatFlow()
    {
        var order1 = await CreateAsync(recoveryId: "1");
        Time.Advance(TimeSpan.FromSeconds(1));
        await CreateAsync("invoices", "2");
        Time.Advance(TimeSpan.FromSeconds(1));
        var order3 = await CreateAsync(recoveryId: "3");

        var runs = await Store.ListRunsAsync(new RunQuery { FlowName = Flow }, Ct);

        Assert.Equal([order3.Id, order1.Id], runs.Select(r => r.Id));
    }

    [Fact]
    public async Task ListRunsAsync_StatusAndFlowFilters_ApplyTogether()
    {
        await CreateInStatusAsync(RunStatus.Failed, "invoices");
        var orderFailed = await CreateInStatusAsync(RunStatus.Failed, Flow, "failed");
        await CreateAsync(recoveryId: "pending");

        var runs = await Store.ListRunsAsync(new RunQuery { FlowName = Flow, Statuses = [RunStatus.Failed] }, Ct);

        Assert.Equal([orderFailed.Id], runs.Select(r => r.Id));
    }

    [Fact]
    public async Task ListRunsAsync_Limit_ReturnsOnlyTheNewest()
    {
        var created = new List<RunId>();
        for (var i = 0; i < 5; i++)
        {
            created.Add((await CreateAsync(recoveryId: $"r{i}")).Id);
            Time.Advance(TimeSpan.FromSeconds(1));
        }

        var runs = await Store.ListRunsAsync(new RunQuery { Limit = 2 }, Ct);

        Assert.Equal([created[4], created[3]], runs.Select(r => r.Id));
    }

    [Fact]
    public async Task ListRunsAsync_RecoveryIdFilter_ReturnsOnlyThatRecoveryIdInEveryFlow()
    {
        var orders = await CreateAsync(recoveryId: "batch-7");
        var invoices = await CreateAsync("invoices", "batch-7");
        await CreateAsync(recoveryId: "batch-8");

        var runs = await Store.ListRunsAsync(new RunQuery { RecoveryId = "batch-7" }, Ct);

        Assert.Equal(new[] { invoices.Id.Value, orders.Id.Value }.Order(), runs.Select(r => r.Id.Value).Order());
    }

    [Fact]
    public async Task ListRunsAsync_TimeRange_IncludesItsStartAndExcludesItsEnd()
    {
        await CreateAsync(recoveryId: "before");
        Time.Advance(TimeSpan.FromSeconds(10));
        var from = await CreateAsync(recoveryId: "at-start");
        Time.Advance(TimeSpan.FromSeconds(10));
        var inside = await CreateAsync(recoveryId: "inside");
        Time.Advance(TimeSpan.FromSeconds(10));
        var end = await CreateAsync(recoveryId: "at-end");

        var runs = await Store.ListRunsAsync(new RunQuery { CreatedFrom = from.CreatedAt, CreatedTo = end.CreatedAt }, Ct);

        Assert.Equal([inside.Id, from.Id], runs.Select(r => r.Id));
    }

    [Fact]
    public async Task ListRunsAsync_After_PagesThroughEveryRunOnceInOrder()
    {
        // Two runs share a creation time, so the cursor must order by run ID as well as by time.
        var created = new List<RunRecord>();
        for (var i = 0; i < 7; i++)
        {
            created.Add(await CreateAsync(recoveryId: $"run-{i}"));
            if (i % 3 != 0)
            {
                Time.Advance(TimeSpan.FromSeconds(1));
            }
        }

        var all = await Store.ListRunsAsync(new RunQuery(), Ct);
        var paged = new List<RunRecord>();
        RunCursor? after = null;
        while (true)
        {
            var page = await Store.ListRunsAsync(new RunQuery { After = after, Limit = 2 }, Ct);
            if (page.Count == 0)
            {
                break;
            }

            Assert.True(page.Count <= 2);
            paged.AddRange(page);
            after = RunCursor.After(page[^1]);
        }

        Assert.Equal(7, all.Count);
        Assert.Equal(all.Select(r => r.Id), paged.Select(r => r.Id));
    }

    [Fact]
    public async Task ListRunsAsync_AfterWithFilter_AppliesBoth()
    {
        var older = await CreateAsync(recoveryId: "1");
        Time.Advance(TimeSpan.FromSeconds(1));
        await CreateAsync("invoices", "2");
        Time.Advance(TimeSpan.FromSeconds(1));
        var newer = await CreateAsync(recoveryId: "3");

        var runs = await Store.ListRunsAsync(new RunQuery { FlowName = Flow, After = RunCursor.After(newer) }, Ct);

        Assert.Equal([older.Id], runs.Select(r => r.Id));
    }
}
