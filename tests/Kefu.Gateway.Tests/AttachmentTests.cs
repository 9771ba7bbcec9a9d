using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Kefu.Gateway.Tests.ContactCentre;
using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Gateway.Tests;

/// <summary>Images and files: upload with server-side limits, download by participants only, the referencing message.</summary>
[Collection(GatewayCollection.Name)]
public sealed class AttachmentTests(GatewayFixture gateway)
{
    /// <summary>A 1×1 PNG.</summary>
    public static readonly byte[] Png = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==");

    [Fact]
    public async Task Visitor_uploads_an_image_both_sides_download_it_and_the_reference_message_arrives()
    {
        var (conversationId, visitorToken, visitor, agentToken, agent) = await JoinedConversationAsync();
        await using var _ = visitor;
        await using var __ = agent;
        using var visitorHttp = gateway.Http(visitorToken);

        var response = await UploadAsync(visitorHttp, conversationId, Png, "image/png", "../../evil\u202E/dot.png");
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await Desk.Ok(response);
        var id = body.Str("attachmentId")!;
        Assert.True(Ulid.TryParse(id, out var _));
        Assert.Equal("dot.png", body.Str("name"));
        Assert.Equal("image/png", body.Str("contentType"));
        Assert.Equal(Png.Length, body.Long("size"));
        Assert.Equal($"/api/v1/attachments/{id}", body.Str("url"));
        Assert.Equal($"/api/v1/attachments/{id}", response.Headers.Location?.OriginalString);

        // The visitor with the bearer header, the agent as an <img> would: a signed link, no token in the URL.
        var mine = await visitorHttp.GetAsync(body.Str("url"));
        Assert.Equal(HttpStatusCode.OK, mine.StatusCode);
        Assert.Equal(Png, await mine.Content.ReadAsByteArrayAsync());
        Assert.Equal("image/png", mine.Content.Headers.ContentType?.MediaType);
        Assert.Equal("nosniff", mine.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("inline", mine.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal("dot.png", mine.Content.Headers.ContentDisposition?.FileNameStar ?? mine.Content.Headers.ContentDisposition?.FileName?.Trim('"'));

        using var anonymous = gateway.Http();
        using var agentHttp = gateway.Http(agentToken);
        var link = (await Desk.Ok(await agentHttp.PostAsync($"/api/v1/attachments/{id}/link", null))).Str("url");
        var theirs = await anonymous.GetAsync(link);
        Assert.Equal(HttpStatusCode.OK, theirs.StatusCode);
        Assert.Equal(Png, await theirs.Content.ReadAsByteArrayAsync());
        Assert.Equal("unauthorized", await Desk.ProblemCode(await anonymous.GetAsync(body.Str("url")), HttpStatusCode.Unauthorized));

        // The message that shows it is an ordinary send referring to it; it reaches the agent as attachment content.
        await visitor.SendAsync(new { type = "send", clientMsgId = "img", conversationId, content = new { kind = "attachment", attachmentId = id } });
        var message = (await agent.ReceiveUntilAsync("message", m => m.Str("clientMsgId") == "img"))[^1];
        Assert.Equal("visitor", message.GetProperty("sender").Str("role"));
        Assert.Equal("dot.png", message.Str("text"));
        Assert.Equal(id, message.GetProperty("content").Str("attachmentId"));
    }

    [Fact]
    public async Task Agent_uploads_a_pdf_served_as_a_download()
    {
        var (conversationId, visitorToken, visitor, agentToken, agent) = await JoinedConversationAsync();
        await using var _ = visitor;
        await using var __ = agent;
        using var agentHttp = gateway.Http(agentToken);
        var pdf = "%PDF-1.4\n%\u00e2\u00e3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"u8.ToArray();

        var body = await Desk.Ok(await UploadAsync(agentHttp, conversationId, pdf, "application/pdf", "invoice 2026.pdf"));
        using var visitorHttp = gateway.Http(visitorToken);
        var download = await visitorHttp.GetAsync(body.Str("url"));
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal(pdf, await download.Content.ReadAsByteArrayAsync());
        Assert.Equal("application/pdf", download.Content.Headers.ContentType?.MediaType);
        Assert.Equal("attachment", download.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal("nosniff", download.Headers.GetValues("X-Content-Type-Options").Single());

        // The legacy text form still refers to it; the visitor gets it as attachment content.
        await agent.SendMessageAsync($"[attachment:{body.Str("attachmentId")}:application/pdf] invoice 2026.pdf", conversationId);
        var message = (await visitor.ReceiveUntilAsync("message", m => m.Str("text") == "invoice 2026.pdf"))[^1];
        Assert.Equal("application/pdf", message.GetProperty("content").Str("contentType"));
    }

    [Fact]
    public async Task Outsiders_can_neither_upload_nor_download()
    {
        var (conversationId, visitorToken, visitor, _, agent) = await JoinedConversationAsync();
        await using var __ = visitor;
        await using var ___ = agent;
        using var visitorHttp = gateway.Http(visitorToken);
        var url = (await Desk.Ok(await UploadAsync(visitorHttp, conversationId, Png, "image/png", "dot.png"))).Str("url");

        // Another visitor: the conversation and the attachment do not exist for them.
        var (_, otherVisitorToken) = await gateway.CreateVisitorAsync("Mallory");
        using var otherVisitor = gateway.Http(otherVisitorToken);
        Assert.Equal("not_found", await Desk.ProblemCode(await otherVisitor.GetAsync(url), HttpStatusCode.NotFound));
        Assert.Equal("not_found", await Desk.ProblemCode(await UploadAsync(otherVisitor, conversationId, Png, "image/png", "x.png"), HttpStatusCode.NotFound));
        Assert.Equal("not_found", await Desk.ProblemCode(await otherVisitor.PostAsync($"{url}/link", null), HttpStatusCode.NotFound));

        // Another agent: the conversation is assigned to someone else.
        var (_, otherAgentToken) = await gateway.CreateAgentAsync();
        using var otherAgent = gateway.Http(otherAgentToken);
        Assert.Equal("not_allowed", await Desk.ProblemCode(await otherAgent.GetAsync(url), HttpStatusCode.Forbidden));
        Assert.Equal("not_allowed", await Desk.ProblemCode(await otherAgent.PostAsync($"{url}/link", null), HttpStatusCode.Forbidden));
        Assert.Equal("not_allowed", await Desk.ProblemCode(await UploadAsync(otherAgent, conversationId, Png, "image/png", "x.png"), HttpStatusCode.Forbidden));

        Assert.Equal("not_found", await Desk.ProblemCode(await visitorHttp.GetAsync($"/api/v1/attachments/{Ulid.NewUlid()}"), HttpStatusCode.NotFound));
        Assert.Equal("not_found", await Desk.ProblemCode(await visitorHttp.GetAsync("/api/v1/attachments/..%2F..%2Fetc%2Fpasswd"), HttpStatusCode.NotFound));
    }

    [Fact]
    public async Task Size_and_type_limits_are_enforced_by_the_server()
    {
        var (conversationId, visitorToken, visitor, _, agent) = await JoinedConversationAsync();
        await using var _ = visitor;
        await using var __ = agent;
        using var http = gateway.Http(visitorToken);

        // Over the default 10 MiB: a valid PNG header followed by padding.
        var big = new byte[(10 * 1024 * 1024) + 1];
        Png.CopyTo(big, 0);
        Assert.Equal("payload_too_large", await Desk.ProblemCode(await UploadAsync(http, conversationId, big, "image/png", "big.png"), HttpStatusCode.RequestEntityTooLarge));

        // An executable renamed .png and declared image/png: the first bytes give it away.
        var exe = new byte[512];
        "MZ"u8.CopyTo(exe);
        Assert.Equal("unsupported_media_type", await Desk.ProblemCode(await UploadAsync(http, conversationId, exe, "image/png", "cat.png"), HttpStatusCode.UnsupportedMediaType));
        Assert.Equal("unsupported_media_type", await Desk.ProblemCode(await UploadAsync(http, conversationId, exe, "application/x-msdownload", "setup.exe"), HttpStatusCode.UnsupportedMediaType));
        Assert.Equal("unsupported_media_type", await Desk.ProblemCode(await UploadAsync(http, conversationId, Png, "image/svg+xml", "dot.svg"), HttpStatusCode.UnsupportedMediaType));
        Assert.Equal("unsupported_media_type", await Desk.ProblemCode(await UploadAsync(http, conversationId, exe, "text/plain", "notes.txt"), HttpStatusCode.UnsupportedMediaType));

        // Not multipart, no file field, an empty file.
        Assert.Equal("unsupported_media_type", await Desk.ProblemCode(
            await http.PostAsync($"/api/v1/conversations/{conversationId}/attachments", new ByteArrayContent(Png) { Headers = { ContentType = new("image/png") } }),
            HttpStatusCode.UnsupportedMediaType));
        using var noFile = new MultipartFormDataContent { { new StringContent("x"), "other" } };
        Assert.Equal("invalid_field", await Desk.ProblemCode(await http.PostAsync($"/api/v1/conversations/{conversationId}/attachments", noFile), HttpStatusCode.BadRequest));
        Assert.Equal("invalid_field", await Desk.ProblemCode(await UploadAsync(http, conversationId, [], "text/plain", "empty.txt"), HttpStatusCode.BadRequest));

        // Within the limits: plain text is fine.
        var ok = await Desk.Ok(await UploadAsync(http, conversationId, "hello 你好\n"u8.ToArray(), "text/plain", "notes.txt"));
        var text = await http.GetAsync(ok.Str("url"));
        Assert.Equal("text/plain", text.Content.Headers.ContentType?.MediaType);
        Assert.Equal("attachment", text.Content.Headers.ContentDisposition?.DispositionType);
    }

    public static async Task<HttpResponseMessage> UploadAsync(HttpClient http, string conversationId, byte[] bytes, string contentType, string fileName)
    {
        using var file = new ByteArrayContent(bytes);
        file.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        using var form = new MultipartFormDataContent { { file, "file", fileName } };
        return await http.PostAsync($"/api/v1/conversations/{conversationId}/attachments", form);
    }

    /// <summary>A visitor's conversation joined (and so taken) by a fresh agent; both connected.</summary>
    private async Task<(string ConversationId, string VisitorToken, ChatClient Visitor, string AgentToken, ChatClient Agent)> JoinedConversationAsync()
    {
        var (_, visitorToken) = await gateway.CreateVisitorAsync("Ann");
        var visitor = await gateway.ConnectAsync(visitorToken);
        var conversationId = (await visitor.SendMessageAsync("Hello")).Str("conversationId")!;
        var (_, agentToken) = await gateway.CreateAgentAsync();
        var agent = await gateway.ConnectAsync(agentToken);
        await agent.SendAsync(new { type = "join", conversationId });
        await agent.ReceiveUntilAsync("joined");
        return (conversationId, visitorToken, visitor, agentToken, agent);
    }
}
