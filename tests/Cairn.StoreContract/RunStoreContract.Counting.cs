using Cairn.Runs;

namespace Cairn.StoreContract;

public abstract partial class RunStoreContract
{
    private Task<IReadOnlyDictionary<RunStatus, long>> CountAsync(RunQuery query) => Store.Queries().CountRunsAsync(query, Ct);

    [Fact]
    public async Task CountRunsAsync_Empty_CountsNone()
    {
        Assert.Empty(await CountAsync(new RunQuery()));
    }

    [Fact]
    public async Task CountRunsAsync_NoFilter_CountsEveryRunByStatus()
    {
        await CreateInStatusAsync(RunStatus.Failed, "failed-1");
        await CreateInStatusAsync(RunStatus.Failed, "failed-2");
        await CreateInStatusAsync(RunStatus.Running, "running-1");
        await CreateAsync(recoveryId: "pending-1");

        var counts = await CountAsync(new RunQuery());

        Assert.Equal(new Dictionary<RunStatus, long> { [RunStatus.Failed] = 2, [RunStatus.Running] = 1, [RunStatus.Pending] = 1 }, counts);
    }

    [Fact]
    public async Task CountRunsAsync_Filters_CountOnlyMatchingRuns_IgnoringCursorAndLimit()
    {
        var first = await CreateAsync(recoveryId: "1");
        Time.Advance(TimeSpan.FromSeconds(1));
        var later = Time.GetUtcNow();
        await CreateAsync("invoices", "2");
        await CreateAsync(recoveryId: "3");
        await CreateInStatusAsync(RunStatus.Failed, "audits", "4");

        Assert.Equal(new Dictionary<RunStatus, long> { [RunStatus.Pending] = 2 }, await CountAsync(new RunQuery { FlowName = Flow }));
        Assert.Equal(new Dictionary<RunStatus, long> { [RunStatus.Pending] = 1 }, await CountAsync(new RunQuery { RecoveryId = "3" }));
        Assert.Equal(3L, (await CountAsync(new RunQuery { CreatedFrom = later })).Values.Sum());
        Assert.Equal(1L, (await CountAsync(new RunQuery { CreatedTo = later })).Values.Sum());
        Assert.Equal(new Dictionary<RunStatus, long> { [RunStatus.Failed] = 1 }, await CountAsync(new RunQuery { Statuses = [RunStatus.Failed, RunStatus.Completed] }));
        Assert.Empty(await CountAsync(new RunQuery { Statuses = [] }));
        Assert.Equal(4L, (await CountAsync(new RunQuery { Limit = 1, After = new RunCursor(first.CreatedAt, first.Id) })).Values.Sum());
    }
}
