using Cairn.Cli;

return await CairnCli.RunAsync(args);
