using System.Diagnostics.Metrics;
using Cairn.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

// Extension methods on IServiceCollection live in its namespace, as the platform's own do.
#pragma warning disable IDE0130
namespace Microsoft.Extensions.DependencyInjection;
#pragma warning restore IDE0130

/// <summary>Registers Cairn with Microsoft.Extensions.DependencyInjection.</summary>
public static class CairnServiceCollectionExtensions
{
    /// <summary>
    /// Adds a singleton <see cref="Cairn.CairnEngine"/> configured by <paramref name="configure"/>, using the container's
    /// <see cref="ILoggerFactory"/>, <see cref="TimeProvider"/> and <see cref="IMeterFactory"/> (for the meter <c>Cairn</c>) when registered, and a hosted service that starts it with
    /// the host and stops it gracefully at shutdown. Example: <c>services.AddCairn(c => c.UseSqlite("cairn.db").AddFlow(flow))</c>.
    /// </summary>
    /// <remarks>The engine starts from the container's <see cref="IOptions{CairnOptions}"/> (so <c>services.Configure&lt;CairnOptions&gt;</c>
    /// applies); what <paramref name="configure"/> sets on the builder's options wins.</remarks>
    public static IServiceCollection AddCairn(this IServiceCollection services, Action<Cairn.CairnEngineBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<Cairn.CairnOptions>();
        services.TryAddSingleton(provider =>
        {
            var builder = Cairn.CairnEngine.CreateBuilder()
                .UseOptions(provider.GetRequiredService<IOptions<Cairn.CairnOptions>>().Value)
                .UseLoggerFactory(provider.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance)
                .UseTimeProvider(provider.GetService<TimeProvider>() ?? TimeProvider.System);
            if (provider.GetService<IMeterFactory>() is { } meterFactory)
            {
                builder.UseMeterFactory(meterFactory);
            }

            configure(builder);
            return builder.Build();
        });
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, CairnHostedService>());
        return services;
    }

    /// <summary>
    /// Like <see cref="AddCairn(IServiceCollection, Action{Cairn.CairnEngineBuilder})"/>, with <see cref="Cairn.CairnOptions"/>
    /// bound from <paramref name="configuration"/> and validated when the host starts: a bad value fails the start with a
    /// message naming its key and value. Example: <c>services.AddCairn(configuration.GetSection("Cairn"), c => c.UseSqlite("cairn.db"))</c>.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">The section holding the options, keys named as the properties (<c>Cairn:MaxConcurrentRuns</c>,
    /// <c>Cairn:LeaseDuration</c> as <c>00:00:30</c>, <c>Cairn:DefaultRetryPolicy:MaxRetries</c>).</param>
    /// <param name="configure">Configures the builder: the store and flows; options set here win over configuration.</param>
    public static IServiceCollection AddCairn(this IServiceCollection services, IConfiguration configuration, Action<Cairn.CairnEngineBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<Cairn.CairnOptions>()
            // RetryPolicy.Default is shared: the binder sets init-only properties on the instance it finds, so give it a copy.
            .Configure(o =>
            {
                if (o.DefaultRetryPolicy is not null)
                {
                    o.DefaultRetryPolicy = o.DefaultRetryPolicy with { };
                }
            })
            .Bind(configuration)
            .ValidateOnStart();
        var path = configuration is IConfigurationSection section ? section.Path : string.Empty;
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<Cairn.CairnOptions>>(new CairnOptionsValidator(path)));
        return services.AddCairn(configure);
    }
}
