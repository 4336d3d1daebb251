using BenchmarkDotNet.Running;

// Pass BenchmarkDotNet's own arguments through: --filter '*', --job short, --list flat, ...
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
