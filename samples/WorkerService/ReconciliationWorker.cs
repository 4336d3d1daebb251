using Cairn.Postgres;
using Cairn.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Reconciliation;

namespace WorkerService;

/// <summary>
/// The Worker Service: the reconciliation flow hosted with <c>services.AddCairn(...)</c>, on SQLite by default and on
/// PostgreSQL when <c>ConnectionStrings:Cairn</c> is set, so that several copies, each with its own
/// <c>Cairn:NodeName</c>, share one database and take over each other's runs.
/// </summary>
public static class ReconciliationWorker
{
    /// <summary>A host builder with configuration from appsettings.json, environment variables (<c>Cairn__NodeName</c>) and <paramref name="args"/> (<c>--Cairn:NodeName=node-1</c>).</summary>
    public static HostApplicationBuilder CreateBuilder(string[] args)
    {
        // appsettings.json beside the program, wherever it is started from; relative paths in it are the working folder's.
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });
        var configuration = builder.Configuration;
        // One instance, for the engine and for the starter: the engine knows a flow by its definition.
        var flow = ReconciliationFlow.Create();
        builder.Services.AddSingleton(flow);
        builder.Services.AddCairn(cairn =>
        {
            if (configuration.GetConnectionString("Cairn") is { Length: > 0 } postgres)
            {
                cairn.UsePostgres(postgres);
            }
            else
            {
                cairn.UseSqlite(configuration["Cairn:SqlitePath"] ?? "cairn.db");
            }

            cairn.Configure(options => options.NodeName = configuration["Cairn:NodeName"]);
            // The flow brings its sub-flows along: the publishing one inline, the archiving one as runs of its own.
            cairn.AddFlow(flow);
        });
        builder.Services.AddSingleton(new ReconciliationSchedule(
            Path.GetFullPath(configuration["Reconciliation:Folder"] ?? "data"),
            configuration.GetValue("Reconciliation:Every", TimeSpan.FromDays(1)),
            configuration.GetValue("Reconciliation:SampleAccounts", 0)));
        builder.Services.AddHostedService<ReconciliationStarter>();
        return builder;
    }
}
