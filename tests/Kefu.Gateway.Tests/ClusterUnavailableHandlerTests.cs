using System.Text.Json;
using Kefu.Gateway.Api;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Kefu.Gateway.Tests;

/// <summary>A request the cluster could not answer gets 503 unavailable with Retry-After, not a bare 500.</summary>
public sealed class ClusterUnavailableHandlerTests
{
    [Fact]
    public async Task A_cluster_that_does_not_answer_is_a_503_with_a_code_and_retry_after()
    {
        var context = NewContext();
        Assert.True(await new ClusterUnavailableHandler().TryHandleAsync(context, new SiloUnavailableException("gone"), default));
        Assert.Equal(StatusCodes.Status503ServiceUnavailable, context.Response.StatusCode);
        Assert.Equal("1", context.Response.Headers.RetryAfter.ToString());
        context.Response.Body.Position = 0;
        var body = await JsonDocument.ParseAsync(context.Response.Body);
        Assert.Equal("unavailable", body.RootElement.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Other_failures_are_left_to_the_default_handler()
    {
        var context = NewContext();
        Assert.False(await new ClusterUnavailableHandler().TryHandleAsync(context, new InvalidOperationException("bug"), default));
        Assert.Equal(StatusCodes.Status200OK, context.Response.StatusCode);
    }

    private static DefaultHttpContext NewContext()
    {
        var services = new ServiceCollection().AddLogging().AddProblemDetails().BuildServiceProvider();
        return new DefaultHttpContext { RequestServices = services, Response = { Body = new MemoryStream() } };
    }
}
