using System.Net;
using System.Text.Json;
using Kefu.Contracts.Events;
using Kefu.Gateway.Api;
using Kefu.Gateway.Auth;
using Kefu.Gateway.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;

namespace Kefu.Gateway.Tests.OpenApi;

/// <summary>
/// <c>/openapi/v1.json</c> (docs/integration.md §12): OpenAPI 3.1 of every mapped endpoint, served to anyone, with
/// who may call each operation, problem details for errors, and the webhooks section with every event type.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class OpenApiDocumentTests(GatewayFixture gateway)
{
    private async Task<JsonElement> DocumentAsync()
    {
        using var anonymous = gateway.Http();
        var response = await anonymous.GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    [Fact]
    public async Task The_document_is_openapi_3_1_served_without_a_token_with_security_schemes_and_the_problem_schema()
    {
        var document = await DocumentAsync();
        Assert.StartsWith("3.1.", document.GetProperty("openapi").GetString(), StringComparison.Ordinal);
        var components = document.GetProperty("components");
        var jwt = components.GetProperty("securitySchemes").GetProperty(KefuOpenApi.JwtScheme);
        Assert.Equal(("http", "bearer"), (jwt.GetProperty("type").GetString(), jwt.GetProperty("scheme").GetString()));
        var key = components.GetProperty("securitySchemes").GetProperty(KefuOpenApi.ServiceKeyScheme);
        Assert.Equal(("http", "bearer"), (key.GetProperty("type").GetString(), key.GetProperty("scheme").GetString()));
        var problem = components.GetProperty("schemas").GetProperty(KefuOpenApi.ProblemSchema);
        Assert.Contains("code", problem.GetProperty("required").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task The_document_reads_back_as_valid_openapi_3_1()
    {
        using var anonymous = gateway.Http();
        var text = await anonymous.GetStringAsync("/openapi/v1.json");

        var read = Microsoft.OpenApi.OpenApiDocument.Parse(text, "json");

        Assert.Empty(read.Diagnostic!.Errors.Select(e => e.ToString()));
        Assert.Equal(Microsoft.OpenApi.OpenApiSpecVersion.OpenApi3_1, read.Diagnostic.SpecificationVersion);
        var errors = Microsoft.OpenApi.OpenApiElementExtensions.Validate(read.Document!, Microsoft.OpenApi.ValidationRuleSet.GetDefaultRuleSet());
        Assert.Empty(errors.Select(e => $"{e.Pointer}: {e.Message}"));
        Assert.Equal(EventTypes.All.Length, read.Document!.Webhooks!.Count);
    }

    [Fact]
    public async Task Every_mapped_endpoint_is_in_the_document()
    {
        var document = await DocumentAsync();
        var endpoints = gateway.Services.GetRequiredService<EndpointDataSource>().Endpoints;

        var missing = OpenApiCoverage.Missing(endpoints, document, out var checkedCount);

        Assert.True(missing.Count == 0,
            "Mapped endpoints missing from /openapi/v1.json (remove ExcludeFromDescription, or if it is not HTTP API add it with a reason to " +
            "OpenApiCoverage.Excluded):\n" + string.Join('\n', missing));
        // The endpoint list really was read: the gateway maps dozens of operations.
        Assert.True(checkedCount >= 40, $"only {checkedCount} endpoints were checked");
    }

    [Fact]
    public void The_coverage_check_reports_an_endpoint_the_document_lacks()
    {
        var endpoints = new Endpoint[]
        {
            Endpoint("/api/v1/things/{id:int}", "GET"),
            Endpoint("/api/v1/things/{id:int}", "POST"),
            Endpoint("/api/v1/things/", "GET"),
            Endpoint("/demo", "GET"),
        };
        var document = JsonDocument.Parse("""{"paths":{"/api/v1/things/{id}":{"get":{}},"/api/v1/things":{"get":{}}}}""").RootElement;

        var missing = OpenApiCoverage.Missing(endpoints, document, out var checkedCount);

        Assert.Equal(3, checkedCount);
        Assert.Equal(["POST /api/v1/things/{id}"], missing.Select(m => m[..m.IndexOf(" (", StringComparison.Ordinal)]));
    }

    [Fact]
    public async Task Every_operation_says_who_may_call_and_answers_errors_with_problem_details()
    {
        var document = await DocumentAsync();
        var operations = 0;
        foreach (var path in document.GetProperty("paths").EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject().Where(o => o.Value.ValueKind == JsonValueKind.Object && o.Value.TryGetProperty("responses", out _)))
            {
                operations++;
                var name = $"{operation.Name.ToUpperInvariant()} {path.Name}";
                var access = operation.Value.GetProperty(KefuOpenApi.AccessExtension).GetString()!.Split(' ');
                var problem = operation.Value.GetProperty("responses").GetProperty("default").GetProperty("content").GetProperty("application/problem+json");
                Assert.Equal("#/components/schemas/" + KefuOpenApi.ProblemSchema, problem.GetProperty("schema").GetProperty("$ref").GetString());
                if (access is ["anonymous"])
                {
                    Assert.False(operation.Value.TryGetProperty("security", out _), name);
                    continue;
                }

                var requirements = operation.Value.GetProperty("security").EnumerateArray().ToList();
                Assert.True(requirements[0].TryGetProperty(KefuOpenApi.JwtScheme, out _), name);
                Assert.True(operation.Value.GetProperty("responses").TryGetProperty("401", out _), name);
                Assert.True(operation.Value.GetProperty("responses").TryGetProperty("403", out _), name);
                Assert.Contains("Who may call:", operation.Value.GetProperty("description").GetString(), StringComparison.Ordinal);
                var scopes = access.Where(a => a.StartsWith("scope:", StringComparison.Ordinal)).Select(a => a["scope:".Length..]).ToList();
                if (scopes.Count > 0)
                {
                    Assert.Equal(scopes, requirements[1].GetProperty(KefuOpenApi.ServiceKeyScheme).EnumerateArray().Select(s => s.GetString()!));
                    Assert.All(scopes, s => Assert.Contains(s, Scopes.All));
                }
                else
                {
                    Assert.Single(requirements);
                }
            }
        }

        Assert.True(operations >= 40, $"only {operations} operations");
    }

    [Fact]
    public async Task Every_event_type_is_a_webhook_whose_body_is_the_envelope_with_that_types_data()
    {
        var document = await DocumentAsync();
        var webhooks = document.GetProperty("webhooks");
        var schemas = document.GetProperty("components").GetProperty("schemas");
        Assert.True(schemas.TryGetProperty(OpenApiEvents.Envelope, out _));
        foreach (var type in EventTypes.All)
        {
            Assert.True(webhooks.TryGetProperty(type, out var webhook), $"no webhook for {type}");
            var post = webhook.GetProperty("post");
            var headers = post.GetProperty("parameters").EnumerateArray()
                .Where(p => p.GetProperty("in").GetString() == "header").Select(p => p.GetProperty("name").GetString()).ToList();
            Assert.Equal(["webhook-id", "webhook-timestamp", "webhook-signature"], headers);
            var allOf = post.GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("allOf");
            Assert.Equal("#/components/schemas/" + OpenApiEvents.Envelope, allOf[0].GetProperty("$ref").GetString());
            Assert.Equal(type, allOf[1].GetProperty("properties").GetProperty("type").GetProperty("const").GetString());
            var data = allOf[1].GetProperty("properties").GetProperty("data").GetProperty("$ref").GetString();
            Assert.Equal("#/components/schemas/" + OpenApiEvents.DataSchema(type), data);
            Assert.True(schemas.TryGetProperty(OpenApiEvents.DataSchema(type), out _), $"no data schema for {type}");
            Assert.True(post.GetProperty("responses").TryGetProperty("410", out _));
        }
    }

    [Theory]
    [InlineData("post", "/api/v1/visitors", "anonymous")]
    [InlineData("post", "/api/v1/agents", "admin")]
    [InlineData("get", "/api/v1/queue", "admin agent")]
    [InlineData("post", "/api/v1/conversations/{conversationId}/csat", "admin agent visitor")]
    public async Task Who_may_call_is_what_the_authorization_policies_admit(string method, string path, string access)
    {
        var document = await DocumentAsync();
        Assert.Equal(access, document.GetProperty("paths").GetProperty(path).GetProperty(method).GetProperty(KefuOpenApi.AccessExtension).GetString());
    }

    [Fact]
    public void The_hand_read_inbound_endpoint_gets_its_contract_body_and_answers()
    {
        var document = new Microsoft.OpenApi.OpenApiDocument();
        var operation = new Microsoft.OpenApi.OpenApiOperation
        {
            Responses = new Microsoft.OpenApi.OpenApiResponses { ["200"] = new Microsoft.OpenApi.OpenApiResponse { Description = "OK" } },
        };

        OpenApiIntegration.Describe(operation, "POST", "api/v1/webhook", document);

        var body = Assert.IsType<Microsoft.OpenApi.OpenApiSchemaReference>(operation.RequestBody!.Content!["application/json"].Schema);
        Assert.Equal(OpenApiIntegration.InboundEvent, body.Reference.Id);
        Assert.Equal(["202", "413", "422"], operation.Responses.Keys.Order());
        Assert.True(operation.Responses["202"].Headers!.ContainsKey("Idempotent-Replayed"));
    }

    private static RouteEndpoint Endpoint(string pattern, string method) =>
        new(_ => Task.CompletedTask, RoutePatternFactory.Parse(pattern), 0, new EndpointMetadataCollection(new HttpMethodMetadata([method])), $"{method} {pattern}");
}
