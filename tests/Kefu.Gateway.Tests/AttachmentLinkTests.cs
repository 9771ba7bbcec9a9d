using System.Net;
using Kefu.Gateway.Attachments;
using Kefu.Gateway.Auth;
using Kefu.Gateway.Tests.ContactCentre;
using Kefu.Gateway.Tests.Infrastructure;
using Kefu.Grains.Attachments;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Kefu.Gateway.Tests;

/// <summary>
/// Issue #12 item 7: attachments open through short-lived links signed for one attachment, never through a bearer token
/// in the URL.
/// </summary>
[Collection(UploadLimitsGatewayCollection.Name)]
public sealed class AttachmentLinkTests(UploadLimitsGatewayFixture gateway)
{
    [Fact]
    public async Task A_signed_link_opens_its_attachment_without_a_token_for_a_few_minutes()
    {
        var (token, http, id, _) = await UploadedPngAsync();
        using var _ = http;
        var before = DateTimeOffset.UtcNow;
        var link = await Desk.Ok(await http.PostAsync($"/api/v1/attachments/{id}/link", null));
        var url = link.Str("url")!;
        var expiresAt = link.GetProperty("expiresAt").GetDateTimeOffset();

        Assert.StartsWith($"/api/v1/attachments/{id}?", url, StringComparison.Ordinal);
        Assert.Contains("sig=", url, StringComparison.Ordinal);
        Assert.Contains("exp=", url, StringComparison.Ordinal);
        Assert.DoesNotContain(token, url, StringComparison.Ordinal);
        Assert.DoesNotContain("access_token", url, StringComparison.Ordinal);
        Assert.InRange(expiresAt, before.AddMinutes(4), before.AddMinutes(7));

        using var anonymous = gateway.Http();
        var download = await anonymous.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal(AttachmentTests.Png, await download.Content.ReadAsByteArrayAsync());
        Assert.Equal("image/png", download.Content.Headers.ContentType?.MediaType);
        Assert.Equal("nosniff", download.Headers.GetValues("X-Content-Type-Options").Single());
    }

    [Fact]
    public async Task An_expired_link_is_refused()
    {
        var (_, http, id, _) = await UploadedPngAsync();
        using var _ = http;

        // Signed with the gateway's key ten minutes ago: genuine, but past its lifetime.
        var past = new AttachmentLinks(
            gateway.Services.GetRequiredService<IOptions<AttachmentOptions>>(), gateway.Services.GetRequiredService<TokenService>(),
            new FixedTime(DateTimeOffset.UtcNow.AddMinutes(-10)));
        var (url, expiresAt) = past.Create(id);
        Assert.True(expiresAt < DateTimeOffset.UtcNow);

        using var anonymous = gateway.Http();
        Assert.Equal("link_expired", await Desk.ProblemCode(await anonymous.GetAsync(url), HttpStatusCode.Forbidden));
    }

    [Fact]
    public async Task A_link_is_bound_to_its_attachment_and_tampering_is_refused()
    {
        var (_, http, id, conversationId) = await UploadedPngAsync();
        using var _ = http;
        var other = (await Desk.Ok(await AttachmentTests.UploadAsync(http, conversationId, AttachmentTests.Png, "image/png", "b.png"))).Str("attachmentId")!;
        var url = (await Desk.Ok(await http.PostAsync($"/api/v1/attachments/{id}/link", null))).Str("url")!;
        var query = url[(url.IndexOf('?', StringComparison.Ordinal) + 1)..];
        var exp = long.Parse(Param(query, "exp"), System.Globalization.CultureInfo.InvariantCulture);
        var sig = Param(query, "sig");

        using var anonymous = gateway.Http();
        async Task Refused(string address) =>
            Assert.Equal("invalid_link", await Desk.ProblemCode(await anonymous.GetAsync(address), HttpStatusCode.Forbidden));

        await Refused($"/api/v1/attachments/{other}?{query}");                               // another attachment
        await Refused($"/api/v1/attachments/{id}?exp={exp + 3600}&sig={sig}");              // a later expiry
        await Refused($"/api/v1/attachments/{id}?exp={exp}&sig={Flip(sig)}");               // another signature
        await Refused($"/api/v1/attachments/{id}?exp={exp}");                               // no signature
        await Refused($"/api/v1/attachments/{id}?exp={exp}&sig=not*base64");
        await Refused($"/api/v1/attachments/{id}?exp=soon&sig={sig}");
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync(url)).StatusCode);
    }

    [Fact]
    public async Task A_token_in_the_query_is_refused_and_a_bearer_header_still_works()
    {
        var (token, http, id, _) = await UploadedPngAsync();
        using var _ = http;
        using var anonymous = gateway.Http();
        Assert.Equal("unauthorized", await Desk.ProblemCode(
            await anonymous.GetAsync($"/api/v1/attachments/{id}?access_token={Uri.EscapeDataString(token)}"), HttpStatusCode.Unauthorized));
        Assert.Equal("unauthorized", await Desk.ProblemCode(await anonymous.GetAsync($"/api/v1/attachments/{id}"), HttpStatusCode.Unauthorized));
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"/api/v1/attachments/{id}")).StatusCode);
    }

    [Fact]
    public async Task Only_those_who_may_read_the_attachment_get_a_link()
    {
        var (_, http, id, _) = await UploadedPngAsync();
        using var _ = http;
        var (_, otherVisitorToken) = await gateway.CreateVisitorAsync("Mallory");
        using var otherVisitor = gateway.Http(otherVisitorToken);
        Assert.Equal("not_found", await Desk.ProblemCode(await otherVisitor.PostAsync($"/api/v1/attachments/{id}/link", null), HttpStatusCode.NotFound));
        using var anonymous = gateway.Http();
        Assert.Equal("unauthorized", await Desk.ProblemCode(await anonymous.PostAsync($"/api/v1/attachments/{id}/link", null), HttpStatusCode.Unauthorized));
        Assert.Equal("not_found", await Desk.ProblemCode(await http.PostAsync($"/api/v1/attachments/{Ulid.NewUlid()}/link", null), HttpStatusCode.NotFound));
    }

    /// <summary>A new visitor (from an address of its own) who uploaded a PNG.</summary>
    private async Task<(string Token, HttpClient Http, string AttachmentId, string ConversationId)> UploadedPngAsync()
    {
        var (token, conversationId, http) = await gateway.VisitorAsync(UploadLimitsGatewayFixture.NewAddress());
        var body = await Desk.Ok(await AttachmentTests.UploadAsync(http, conversationId, AttachmentTests.Png, "image/png", "dot.png"));
        return (token, http, body.Str("attachmentId")!, conversationId);
    }

    private static string Param(string query, string name) =>
        query.Split('&').Select(p => p.Split('=', 2)).Single(p => p[0] == name)[1];

    private static string Flip(string sig) => (sig[0] == 'A' ? 'B' : 'A') + sig[1..];

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
