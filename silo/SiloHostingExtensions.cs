using System.Text;
using Kefu.Grains.Hosting;
using Kefu.Grains.Telemetry;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.IdentityModel.Tokens;
using Orleans.Dashboard;

namespace Kefu.Silo;

public static partial class SiloHostingExtensions
{
    private const string AdminPolicy = "admin";
    private const string DashboardCookie = "kefu_dashboard";

    public static WebApplicationBuilder AddKefuSilo(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        builder.UseOrleans(silo => silo.AddKefu(configuration).AddKefuKubernetes(configuration).AddKefuVersioning().AddDashboard());

        // The dashboard accepts the same admin tokens the gateways issue (same Kefu:Auth settings). A browser opens
        // /dashboard?access_token=<admin token> once; the token then rides in an HttpOnly cookie for the page's calls.
        var signingKey = configuration["Kefu:Auth:SigningKey"];
        var issuer = configuration["Kefu:Auth:Issuer"] ?? "kefu";
        builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer(o =>
        {
            o.MapInboundClaims = false;
            o.TokenValidationParameters = new TokenValidationParameters
            {
                ValidIssuer = issuer,
                ValidAudience = issuer,
                // Without a configured key no token validates: the dashboard stays closed.
                IssuerSigningKey = new SymmetricSecurityKey(string.IsNullOrEmpty(signingKey)
                    ? System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)
                    : Encoding.UTF8.GetBytes(signingKey)),
                NameClaimType = "sub",
                RoleClaimType = "role",
                ClockSkew = TimeSpan.FromSeconds(30),
            };
            o.Events = new JwtBearerEvents
            {
                OnMessageReceived = ctx =>
                {
                    if (ctx.Request.Query["access_token"] is [{ Length: > 0 } query])
                    {
                        ctx.Token = query;
                        ctx.Response.Cookies.Append(DashboardCookie, query, new CookieOptions
                        {
                            HttpOnly = true,
                            SameSite = SameSiteMode.Strict,
                            Secure = ctx.Request.IsHttps,
                            Path = "/dashboard",
                        });
                    }
                    else if (ctx.Request.Cookies.TryGetValue(DashboardCookie, out var cookie))
                    {
                        ctx.Token = cookie;
                    }

                    return Task.CompletedTask;
                },
            };
        });
        builder.Services.AddAuthorizationBuilder().AddPolicy(AdminPolicy, p => p.RequireRole("admin"));
        builder.AddKefuTelemetry("kefu-silo"); // the same telemetry as the gateway: Kefu:Telemetry (docs/operations.md)
        return builder;
    }

    public static WebApplication MapKefuSilo(this WebApplication app)
    {
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapGet("/healthz", () => TypedResults.Ok(new { status = "live" }));
        app.MapGet("/readyz", SiloReadiness.Check);
        app.MapOrleansDashboard("/dashboard").RequireAuthorization(AdminPolicy);
        app.MapKefuTelemetry(); // /metrics when Kefu:Telemetry:Prometheus:Enabled
        return app;
    }
}
