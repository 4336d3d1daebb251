using System.CommandLine;
using Cairn.CrashTest.Harness;

namespace Cairn.CrashTest.Commands;

/// <summary><c>crash-test-worker</c> (hidden): the child process the crash test starts and kills.</summary>
internal static class CrashTestWorkerCommand
{
    public static Command Create()
    {
        var store = new Option<string>("--store") { Required = true };
        var journal = new Option<string>("--journal") { Required = true };
        var round = new Option<int>("--round") { Required = true };
        var runs = new Option<int>("--runs") { Required = true };
        var seed = new Option<int>("--seed") { Required = true };
        var concurrency = new Option<int>("--concurrency") { Required = true };
        var target = new Option<KillMoment>("--target") { DefaultValueFactory = _ => KillMoment.None, Description = "stage, checkpoint or commit" };
        var targetAt = new Option<int>("--target-at") { DefaultValueFactory = _ => 0, Description = "Report the N-th event of the target kind" };
        var command = new Command("crash-test-worker", "Run one crash-test worker process (started by the crash test)")
        {
            store, journal, round, runs, seed, concurrency, target, targetAt,
        };
        command.Hidden = true;
        command.SetAction((parse, ct) => new CrashTestWorker(new CrashTestWorkerSettings(
            parse.GetRequiredValue(store),
            parse.GetRequiredValue(journal),
            parse.GetValue(round),
            parse.GetValue(runs),
            parse.GetValue(seed),
            parse.GetValue(concurrency),
            parse.GetValue(target),
            parse.GetValue(targetAt))).RunAsync(ct));
        return command;
    }
}
