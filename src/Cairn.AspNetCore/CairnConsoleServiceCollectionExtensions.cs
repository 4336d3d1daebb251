using Cairn;
using Cairn.AspNetCore;
using Cairn.AspNetCore.Api;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

// Extension methods on IServiceCollection live in its namespace, as the platform's own do.
#pragma warning disable IDE0130
namespace Microsoft.Extensions.DependencyInjection;
#pragma warning restore IDE0130

/// <summary>Registers the services of Cairn's operator console and REST API.</summary>
public static class CairnConsoleServiceCollectionExtensions
{
    /// <summary>
    /// Adds what <c>MapCairnConsole</c> needs: its options (validated when the host starts), authorization with the
    /// built-in <c>cairn-viewer</c> and <c>cairn-operator</c> policies (unless the host defines policies of those names),
    /// antiforgery, and the console's OpenAPI document. The console works on the <see cref="RunOperator"/> of the engine
    /// that <c>services.AddCairn(...)</c> registered, or else on a <see cref="RunOperator"/> the host registered
    /// (<c>services.AddSingleton(RunOperator.Create(store))</c> for a store alone).
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Configures the console's options. Default: loopback only, state shown.</param>
    public static IServiceCollection AddCairnConsole(this IServiceCollection services, Action<CairnConsoleOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<CairnConsoleOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CairnConsoleOptions>, CairnConsoleOptionsValidator>());
        services.TryAddSingleton(provider => new ConsoleOperator(
            provider.GetService<CairnEngine>()?.Operator
            ?? provider.GetService<RunOperator>()
            ?? throw new InvalidOperationException(
                "The Cairn console needs a RunOperator: host an engine with services.AddCairn(...), or register one with services.AddSingleton(RunOperator.Create(store)).")));

        services.AddAuthorization();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<AuthorizationOptions>, DefaultPolicies>());
        services.AddAntiforgery();
        // A JSON API sends the token in a header; a host that cleared the header name would make every write fail.
        services.PostConfigure<AntiforgeryOptions>(o => o.HeaderName ??= "RequestVerificationToken");
        services.AddOpenApi(CairnConsoleDefaults.OpenApiDocumentName, o =>
            o.ShouldInclude = description => description.GroupName == CairnConsoleDefaults.OpenApiDocumentName);
        return services;
    }

    /// <summary>The built-in policies, added only where the host has not defined a policy of the same name.</summary>
    private sealed class DefaultPolicies : IConfigureOptions<AuthorizationOptions>
    {
        public void Configure(AuthorizationOptions options)
        {
            if (options.GetPolicy(CairnConsoleDefaults.ViewerPolicy) is null)
            {
                options.AddPolicy(CairnConsoleDefaults.ViewerPolicy, p => p.RequireRole(CairnConsoleDefaults.ViewerRole, CairnConsoleDefaults.OperatorRole));
            }

            if (options.GetPolicy(CairnConsoleDefaults.OperatorPolicy) is null)
            {
                options.AddPolicy(CairnConsoleDefaults.OperatorPolicy, p => p.RequireRole(CairnConsoleDefaults.OperatorRole));
            }
        }
    }
}
