using Kefu.Contracts.Messages;
using Kefu.Gateway.Api;
using Kefu.Gateway.Api.Avatars;
using Kefu.Gateway.Attachments;
using Kefu.Gateway.Auth;
using Kefu.Gateway.Email;
using Kefu.Gateway.Grpc;
using Kefu.Gateway.Ui;
using Kefu.Gateway.WebSockets;
using Kefu.Grains.Hosting;
using Kefu.Grains.Telemetry;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Kefu.Gateway.Hosting;

public static class GatewayHostingExtensions
{
    /// <summary>Everything the gateway needs; in the embedded default it also hosts a silo in this process.</summary>
    public static WebApplicationBuilder AddKefuGateway(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var services = builder.Services;
        if (KefuCluster.ConnectionString(configuration) is null)
        {
            // Embedded default: this process is also the (only) silo. Its admin password, default inbox key and
            // signing key outlive a restart through a small state file (unless configured).
            if (EmbeddedState.Apply(builder.Configuration) is { } embedded)
            {
                services.AddSingleton(embedded);
            }

            builder.UseOrleans(silo => silo.AddKefu(configuration));
        }
        else
        {
            // Cluster mode: an Orleans client that finds the silos in the MySQL membership table.
            builder.UseOrleansClient(client => client.AddKefuClient(configuration));
            services.AddSingleton<IClientConnectionRetryFilter, ClusterConnectionRetry>();
        }

        services.TryAddSingleton(TimeProvider.System);

        // The hosting layer logs every request's full URL, query included, and /ws carries ?access_token=: never
        // at a level that is written unless someone asks for this one category by name.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", level => level >= LogLevel.Warning);
        services.Configure<KefuAuthOptions>(configuration.GetSection(KefuAuthOptions.Section));
        services.Configure<ApiKeyOptions>(configuration.GetSection(ApiKeyOptions.Section));
        services.AddSingleton<ApiKeyFailures>();
        services.Configure<KefuWebSocketOptions>(configuration.GetSection(KefuWebSocketOptions.Section));
        services.Configure<PresenceOptions>(configuration.GetSection(PresenceOptions.Section));
        services.AddKefuAttachments(configuration);
        // The upload limits of plugins (Kefu:Plugins) are checked here too, before a module crosses to a silo.
        services.Configure<Kefu.Plugins.PluginOptions>(configuration.GetSection(Kefu.Plugins.PluginOptions.Section));
        services.AddSingleton<TokenService>();
        services.AddSingleton<AgentSessions>();
        services.AddSingleton(sp => new AgentPasswords(sp.GetRequiredService<IOptions<KefuAuthOptions>>().Value.MaxConcurrentPasswordHashes));
        services.AddSingleton<GatewayIdentity>();
        services.AddSingleton<GatewayReadiness>();
        services.AddSingleton<ConnectionRegistry>();
        // The chat path asks a tenant's before_message worker only when the tenant has such plugins (Kefu:PluginHooks).
        services.AddOptions<Kefu.Grains.Plugins.PluginHookOptions>().Bind(configuration.GetSection(Kefu.Grains.Plugins.PluginHookOptions.Section));
        services.AddSingleton(sp => new BeforeMessageGate(sp.GetRequiredService<IGrainFactory>(), sp.GetRequiredService<IOptions<Kefu.Grains.Plugins.PluginHookOptions>>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<GatewayObserver>();
        services.AddHostedService<AdminBootstrapService>();
        services.AddHostedService<GatewayRegistrationService>();
        services.AddHostedService<StartupBanner>();
        services.AddHostedService<GracefulShutdown>();

        services.AddProblemDetails(o => o.CustomizeProblemDetails = ctx =>
            ctx.ProblemDetails.Extensions.TryAdd("code", Problems.DefaultCode(ctx.ProblemDetails.Status)));
        services.AddExceptionHandler<ClusterUnavailableHandler>(); // 503 unavailable, not 500, while the cluster cannot answer
        services.AddKefuAuthentication();
        services.AddKefuRateLimits(configuration);
        services.AddKefuOpenApi();
        services.Configure<ForwardedHeadersOptions>(o =>
        {
            // Client addresses (rate limits, logs) through a reverse proxy: only listed proxies are trusted. Not even
            // loopback by default: any local process (or a proxy that passes the header through) could otherwise
            // pick its rate-limit address.
            o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            o.KnownProxies.Clear();
            o.KnownIPNetworks.Clear();
            foreach (var proxy in configuration.GetSection("Kefu:ForwardedHeaders:KnownProxies").Get<string[]>() ?? [])
            {
                o.KnownProxies.Add(System.Net.IPAddress.Parse(proxy));
            }

            foreach (var network in configuration.GetSection("Kefu:ForwardedHeaders:KnownNetworks").Get<string[]>() ?? [])
            {
                o.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network));
            }
        });
        builder.AddKefuGrpc(); // kefu.integration.v1 on Kefu:Grpc:Url (off when unset)
        services.AddKefuMailReceiver(configuration); // replies and bounces by SMTP on Kefu:Mail:Receiver:Port (off when 0)
        builder.AddKefuTelemetry("kefu-gateway"); // metrics, traces, log correlation: Kefu:Telemetry (docs/operations.md)
        return builder;
    }

    public static WebApplication MapKefuGateway(this WebApplication app)
    {
        app.UseForwardedHeaders();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapKefuUi(); // browser pages, and CORS for the widget before authentication answers
        app.UseWebSockets();
        app.UseWebSocketApi(); // /ws, ahead of authentication: see WebSocketApi.UseWebSocketApi
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        app.MapHealthApi();
        app.MapVisitorsApi();
        app.MapAuthApi();
        app.MapConversationsApi();
        app.MapActivityApi();
        app.MapSearchApi(); // GET /api/v1/conversations/search (docs/search.md)
        app.MapAgentsApi();
        app.MapAvatarsApi();
        app.MapTeamsApi();
        app.MapInboxesApi();
        app.MapCannedRepliesApi();
        app.MapWidgetApi();
        app.MapAttachmentsApi();
        app.MapEventsApi();
        app.MapApiKeysApi();
        app.MapContactsApi();
        app.MapContactDataApi(); // export and erasure (docs/data-protection.md)
        app.MapInboundApi();
        app.MapIntegrationMessagesApi();
        app.MapWebhooksApi();
        app.MapCrmApi();
        app.MapRoutingApi();
        app.MapPluginsApi();
        app.MapRetentionApi();
        app.MapReportsApi();
        app.MapTranscriptApi();
        app.MapKefuOpenApi();
        app.MapKefuGrpc();
        app.MapKefuTelemetry(); // /metrics when Kefu:Telemetry:Prometheus:Enabled (loopback only unless configured)
        return app;
    }

    private static void AddKefuAuthentication(this IServiceCollection services)
    {
        // One default scheme that forwards: "Bearer kefu_sk_…" is a service API key, any other bearer token a JWT.
        services.AddAuthentication(ApiKeyDefaults.Selector)
            .AddPolicyScheme(ApiKeyDefaults.Selector, "JWT or service API key", o => o.ForwardDefaultSelector = ctx =>
                ApiKeyDefaults.CarriesKey(ctx.Request) ? ApiKeyDefaults.Scheme : JwtBearerDefaults.AuthenticationScheme)
            .AddJwtBearer()
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyDefaults.Scheme, null);
        services.AddSingleton<Microsoft.AspNetCore.Authorization.IAuthorizationMiddlewareResultHandler, KefuAuthorizationResultHandler>();
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme).Configure<TokenService>((o, tokens) =>
        {
            o.MapInboundClaims = false;
            o.TokenValidationParameters = tokens.ValidationParameters();
            o.Events = new JwtBearerEvents
            {
                // An <img src> cannot carry a header: attachment downloads also take ?access_token= (one value).
                OnMessageReceived = ctx =>
                {
                    if (HttpMethods.IsGet(ctx.Request.Method)
                        && ctx.Request.Path.StartsWithSegments("/api/v1/attachments", StringComparison.OrdinalIgnoreCase)
                        && ctx.Request.Query["access_token"] is [{ Length: > 0 } token])
                    {
                        ctx.Token = token;
                    }

                    return Task.CompletedTask;
                },
                // Signed and unexpired is not enough: a revoked agent token (older version, deactivated agent) is refused
                // on the very next request.
                OnTokenValidated = async ctx =>
                {
                    if (!await ctx.HttpContext.RequestServices.GetRequiredService<AgentSessions>().IsCurrentAsync(ctx.Principal!))
                    {
                        ctx.Fail("The token was revoked.");
                    }
                },
                // /ws never reaches this handler: it validates its token itself (?access_token= or this header), see
                // WebSocketApi.UseWebSocketApi.
                OnChallenge = async ctx =>
                {
                    ctx.HandleResponse();
                    ctx.Response.Headers.WWWAuthenticate = "Bearer";
                    await Problems.Create(StatusCodes.Status401Unauthorized, ErrorCodes.Unauthorized, "A valid bearer token is required.")
                        .ExecuteAsync(ctx.HttpContext);
                },
                OnForbidden = ctx => Problems.Create(StatusCodes.Status403Forbidden, ErrorCodes.NotAllowed, "Your role does not allow this.")
                    .ExecuteAsync(ctx.HttpContext),
            };
        });
        services.AddAuthorizationBuilder()
            .AddPolicy(KefuPolicies.Agent, p => p.RequireRole(Contracts.Grains.AgentRoles.Agent, Contracts.Grains.AgentRoles.Admin))
            .AddPolicy(KefuPolicies.Admin, p => p.RequireRole(Contracts.Grains.AgentRoles.Admin))
            .AddScopePolicies();
    }
}
