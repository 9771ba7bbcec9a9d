using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Kefu.Gateway.Auth;
using Kefu.Gateway.Hosting;
using Kefu.Gateway.Tests.ContactCentre;
using Kefu.Gateway.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Kefu.Gateway.Tests;

/// <summary>Issue #12 item 6: password hashing, forwarded headers, agent input, weak passwords, content root, token-free logs.</summary>
[Collection(GatewayCollection.Name)]
public sealed class HardeningTests(GatewayFixture gateway)
{
    [Fact]
    public async Task Password_hashes_run_at_most_the_configured_number_at_once_and_the_rest_queue()
    {
        var passwords = new AgentPasswords(maxConcurrent: 2);
        var hash = await passwords.HashAsync("some-password-1");
        await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(() => passwords.VerifyAsync(hash, "wrong-password"))));
        Assert.InRange(passwords.PeakConcurrent, 1, 2);
        Assert.Equal(Math.Max(1, Environment.ProcessorCount / 2), new AgentPasswords().MaxConcurrent);
    }

    [Fact]
    public async Task Health_answers_while_sixteen_logins_queue()
    {
        using var http = gateway.Http();
        var logins = Enumerable.Range(0, 16)
            .Select(_ => http.PostAsJsonAsync("/api/v1/auth/login", new { username = "admin", password = "not-the-password" }))
            .ToArray();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);
        Assert.All(await Task.WhenAll(logins), r => Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode));
    }

    [Fact]
    public void X_Forwarded_For_is_trusted_from_configured_proxies_only_not_loopback_by_default()
    {
        static ForwardedHeadersOptions OptionsWith(Dictionary<string, string?> settings)
        {
            var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Kefu:Bootstrap:AdminPassword"] = "unused-admin-password",
                ["Kefu:Bootstrap:DefaultInboxKey"] = "pk_AAAAAAAAAAAAAAAAAAAAAAAA",
                ["Kefu:Auth:SigningKey"] = "test-signing-key-that-is-long-enough-0123456789",
            });
            builder.Configuration.AddInMemoryCollection(settings);
            builder.AddKefuGateway();
            using var app = builder.Build();
            return app.Services.GetRequiredService<IOptions<ForwardedHeadersOptions>>().Value;
        }

        var none = OptionsWith([]);
        Assert.Empty(none.KnownProxies);
        Assert.Empty(none.KnownIPNetworks);

        var listed = OptionsWith(new() { ["Kefu:ForwardedHeaders:KnownProxies:0"] = "10.0.0.5", ["Kefu:ForwardedHeaders:KnownNetworks:0"] = "10.1.0.0/16" });
        Assert.Equal([IPAddress.Parse("10.0.0.5")], listed.KnownProxies);
        Assert.Equal([System.Net.IPNetwork.Parse("10.1.0.0/16")], listed.KnownIPNetworks);
    }

    [Fact]
    public async Task Agent_creation_limits_the_display_name_like_patch()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        var response = await admin.PostAsJsonAsync("/api/v1/agents", new { username = Unique("long"), password = "agent-password-1", displayName = new string('x', 101) });
        Assert.Equal("invalid_field", await Desk.ProblemCode(response, HttpStatusCode.BadRequest));
        var fits = await admin.PostAsJsonAsync("/api/v1/agents", new { username = Unique("fits"), password = "agent-password-1", displayName = new string('x', 100) });
        Assert.Equal(HttpStatusCode.Created, fits.StatusCode);
    }

    [Fact]
    public async Task Common_and_trivial_passwords_are_refused_with_weak_password()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        var username = Unique("weak");
        foreach (var password in new[] { "12345678", "password", "PassWord1", "        ", "aaaaaaaaaa", username, $"{username}!2024", "qwertyuiop" })
        {
            var response = await admin.PostAsJsonAsync("/api/v1/agents", new { username, password });
            Assert.True("weak_password" == await Desk.ProblemCode(response, HttpStatusCode.BadRequest), password);
        }

        Assert.Equal("invalid_field", await Desk.ProblemCode(await admin.PostAsJsonAsync("/api/v1/agents", new { username, password = "short" }), HttpStatusCode.BadRequest));
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/v1/agents", new { username, password = "correct horse battery" })).StatusCode);
        var patched = await admin.PatchAsJsonAsync($"/api/v1/agents/{username}", new { password = "password123" });
        Assert.Equal("weak_password", await Desk.ProblemCode(patched, HttpStatusCode.BadRequest));
    }

    [Fact]
    public async Task Started_outside_its_folder_it_reads_its_appsettings_and_never_logs_access_tokens()
    {
        var elsewhere = Directory.CreateTempSubdirectory("kefu-cwd-").FullName;
        try
        {
            // Verbose request logging asked for: the hosting layer would write every URL, query included.
            await using var process = await GatewayProcess.StartAsync(
                Path.Combine(elsewhere, "state.json"), elsewhere, "--Logging:LogLevel:Microsoft.AspNetCore=Debug");
            using var http = new HttpClient { BaseAddress = new Uri(process.Address) };
            var visitor = await (await http.PostAsJsonAsync("/api/v1/visitors", new { name = "Logged" })).Content.ReadFromJsonAsync<JsonElement>();
            var token = visitor.Str("token")!;
            await using (var socket = await ChatClient.ConnectAsync(process.WebSocketUri, token))
            {
                await socket.SendMessageAsync("hello");
            }

            Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync($"/api/v1/conversations?access_token={token}")).StatusCode);
            var (exitCode, _) = await process.InterruptAsync(TimeSpan.FromSeconds(30));
            var output = process.Output;
            Assert.Equal(0, exitCode);
            Assert.Contains($"Content root path: {AppContext.BaseDirectory.TrimEnd('/')}", output, StringComparison.Ordinal);

            // appsettings.json sets Orleans to Warning: without it the silo's information logs would fill the output.
            Assert.DoesNotContain("info: Orleans", output, StringComparison.Ordinal);
            Assert.False(output.Contains(token, StringComparison.Ordinal), output);
            Assert.False(output.Contains("access_token", StringComparison.Ordinal), output);
        }
        finally
        {
            Directory.Delete(elsewhere, recursive: true);
        }
    }

    private static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..20];
}
