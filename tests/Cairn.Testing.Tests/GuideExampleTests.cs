namespace Cairn.Testing.Tests;

/// <summary>The example of docs/guide.md's section on the crash kit: it compiles, runs, and is the guide's text.</summary>
public sealed class GuideExampleTests
{
    [Fact]
    public async Task GuideExample_SweepOfATransfer_EveryCaseRecovers()
    {
        var flow = Flow.Create<Transfer>("transfer")
            .Stage("debit", (ctx, ct) => { ctx.State.DebitId = $"debit-{ctx.IdempotencyKey}"; return Task.CompletedTask; })
            .RecoveryPoint("debited")
            .Stage("credit", (ctx, ct) => { ctx.State.Credited = true; return Task.CompletedTask; })
            .Build();
        // guide:start
        var kit = new CrashKit(); // or new CrashKit(b => b.UseSqlite(path).AddFlow(otherFlow))

        // One crash: the process dies just before "credit"; a new engine resumes the run.
        var crash = await kit.RunWithCrashAsync(flow, new Transfer(), CrashAt.Stage("credit"));
        Assert.True(crash.Outcome.IsCompleted);
        Assert.Single(crash.Journal.Of("debit")); // "debited" committed before the crash

        // Every boundary in turn: before each stage, after each committed checkpoint.
        var report = await kit.SweepAsync(flow, new Transfer(), c =>
        {
            c.AssertRecovered(); // every run completed, no stage before a committed recovery point ran again
            Assert.True(c.State!.Credited);
        });
        Assert.Equal(3, report.CasesRun);
        // guide:end
    }

    [Fact]
    public void Guide_CrashKitSection_ShowsThisExample()
    {
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Cairn.slnx")))
        {
            root = Path.GetDirectoryName(root)!;
        }

        var guide = File.ReadAllText(Path.Combine(root, "docs", "guide.md")).ReplaceLineEndings("\n");
        var section = guide[guide.IndexOf("## Testing recovery with the crash kit", StringComparison.Ordinal)..];
        var start = section.IndexOf("```csharp\n", StringComparison.Ordinal) + "```csharp\n".Length;
        var shown = section[start..section.IndexOf("```", start, StringComparison.Ordinal)];

        var source = File.ReadAllText(Path.Combine(root, "tests", "Cairn.Testing.Tests", "GuideExampleTests.cs")).ReplaceLineEndings("\n");
        var from = source.IndexOf("// guide:start\n", StringComparison.Ordinal) + "// guide:start\n".Length;
        var example = source[from..source.IndexOf("        // guide:end", from, StringComparison.Ordinal)];
        var dedented = string.Concat(example.Split('\n').Select(l => (l.Length >= 8 ? l[8..] : l.TrimStart()) + "\n"))[..^1];

        Assert.Equal(dedented, shown);
    }

    public sealed class Transfer
    {
        public string? DebitId { get; set; }

        public bool Credited { get; set; }
    }
}
