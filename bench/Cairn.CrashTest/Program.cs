using Cairn.Cli;
using Cairn.CrashTest.Commands;

var root = CrashTestCommand.CreateRoot();
root.Subcommands.Add(CrashTestWorkerCommand.Create());
root.Subcommands.Add(ReconcileWorkerCommand.Create());
root.Subcommands.Add(PurchaseWorkerCommand.Create());
root.Subcommands.Add(NodeCommand.Create());
root.Subcommands.Add(ChaosCommand.Create());
root.Subcommands.Add(ChaosNodeCommand.Create());
return await CairnCli.RunAsync("crash-test", root, args);
