using Cairn.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

// Extension methods on IServiceCollection live in its namespace, as the platform's own do.
#pragma warning disable IDE0130
namespace Microsoft.Extensions.DependencyInjection;
#pragma warning restore IDE0130

/// <summary>Registers Cairn with Microsoft.Extensions.DependencyInjection.</summary>
public static class CairnServiceCollectionExtensions
{
    /// <summary>
    /// Adds a singleton <see cref="Cairn.CairnEngine"/> configured by <paramref name="configure"/>, using the container's
    /// <see cref="ILoggerFactory"/> and <see cref="TimeProvider"/> when registered, and a hosted service that starts it with
    /// the host and stops it gracefully at shutdown. Example: <c>services.AddCairn(c => c.UseSqlite("cairn.db").AddFlow(flow))</c>.
    /// </summary>
    public static IServiceCollection AddCairn(this IServiceCollection services, Action<Cairn.CairnEngineBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.TryAddSingleton(provider =>
        {
            var builder = Cairn.CairnEngine.CreateBuilder()
                .UseLoggerFactory(provider.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance)
                .UseTimeProvider(provider.GetService<TimeProvider>() ?? TimeProvider.System);
            configure(builder);
            return builder.Build();
        });
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, CairnHostedService>());
        return services;
    }
}
