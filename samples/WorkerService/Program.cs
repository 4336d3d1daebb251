using Microsoft.Extensions.Hosting;
using WorkerService;

using var host = ReconciliationWorker.CreateBuilder(args).Build();
await host.RunAsync();
