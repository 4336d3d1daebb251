using Cairn.Bench;

return await BenchProgram.RunAsync(args);
