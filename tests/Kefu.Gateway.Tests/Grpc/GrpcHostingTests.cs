using Kefu.Gateway.Grpc;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;

namespace Kefu.Gateway.Tests.Grpc;

/// <summary>How Kefu:Grpc:Url becomes a Kestrel endpoint next to the HTTP addresses (gateway/Grpc/GrpcHosting.cs).</summary>
public sealed class GrpcHostingTests
{
    [Fact]
    public void The_grpc_url_joins_the_http_urls_after_them()
    {
        var settings = GrpcHosting.ListenSettings(Config(new() { ["Urls"] = "http://localhost:5080; http://127.0.0.1:0" }), "http://localhost:5081");
        Assert.Equal("http://localhost:5080;http://127.0.0.1:0;http://localhost:5081", Assert.Single(settings).Value);
    }

    [Fact]
    public void Http_ports_or_kestrels_default_stand_in_when_no_urls_are_set()
    {
        Assert.Equal("http://*:8080;http://*:8081", GrpcHosting.ListenSettings(Config(new() { ["http_ports"] = "8080" }), "http://*:8081")["urls"]);
        Assert.Equal("http://localhost:5000;http://*:8081", GrpcHosting.ListenSettings(Config([]), "http://*:8081")["urls"]);
    }

    [Fact]
    public void Configured_kestrel_endpoints_get_an_http2_grpc_endpoint_and_urls_stay_as_they_are()
    {
        var settings = GrpcHosting.ListenSettings(Config(new() { ["Kestrel:Endpoints:Web:Url"] = "http://*:80", ["Urls"] = "http://*:90" }), "http://*:81");
        Assert.Equal(2, settings.Count);
        Assert.Equal("http://*:81", settings["Kestrel:Endpoints:KefuGrpc:Url"]);
        Assert.Equal("Http2", settings["Kestrel:Endpoints:KefuGrpc:Protocols"]);
    }

    [Theory]
    [InlineData("http://127.0.0.1:0")]
    [InlineData("http://localhost")]
    public void A_grpc_url_without_a_port_of_its_own_is_refused_at_start(string url)
    {
        var builder = WebApplication.CreateBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Kefu:Grpc:Url"] = url });
        var error = Assert.Throws<InvalidOperationException>(() => builder.AddKefuGrpc());
        Assert.Contains("Kefu:Grpc:Url", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://127.0.0.1:5081", 5081)]
    [InlineData("http://*:5081", 5081)]
    [InlineData("http://[::1]:5081/", 5081)]
    [InlineData("https://kefu.example.com:443", 443)]
    [InlineData("http://localhost", 0)]
    public void The_port_is_read_from_the_url(string url, int port) => Assert.Equal(port, GrpcHosting.PortOf(url));

    private static IConfiguration Config(Dictionary<string, string?> values) => new ConfigurationBuilder().AddInMemoryCollection(values).Build();
}
