using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Kefu.Gateway.Api.Avatars;
using Kefu.Gateway.Tests.Infrastructure;
using Kefu.Grains.Participants;

namespace Kefu.Gateway.Tests.ContactCentre;

/// <summary>Agents' pictures: upload checked by the bytes, a public read of the picture only, removal.</summary>
[Collection(GatewayCollection.Name)]
public sealed class AvatarTests(GatewayFixture gateway)
{
    /// <summary>A real 1×1 PNG.</summary>
    public static readonly byte[] Png = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==");

    private static ByteArrayContent Body(byte[] bytes, string? contentType = "image/png")
    {
        var content = new ByteArrayContent(bytes);
        if (contentType is not null)
        {
            content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        }

        return content;
    }

    [Fact]
    public async Task An_agent_uploads_a_picture_anyone_can_load_it_and_the_agent_removes_it()
    {
        var (id, token) = await gateway.CreateAgentAsync();
        using var agent = gateway.Http(token);
        var uploaded = await Desk.Ok(await agent.PutAsync("/api/v1/agents/me/avatar", Body(Png)));
        var url = uploaded.Str("url")!;
        Assert.StartsWith($"/api/v1/avatars/default/{id}?v=", url);
        Assert.Equal("image/png", uploaded.Str("contentType"));
        Assert.Equal(1, uploaded.GetProperty("width").GetInt32());

        Assert.Equal(url, (await Desk.Ok(await agent.GetAsync("/api/v1/agents/me"))).Str("avatarUrl"));
        var listed = (await Desk.Ok(await agent.GetAsync("/api/v1/agents"))).GetProperty("agents").EnumerateArray().Single(a => a.Str("agentId") == id);
        Assert.Equal(url, listed.Str("avatarUrl"));

        // Anonymous (a visitor's widget): the picture, its fixed type, never sniffed; a versioned link is cached for good.
        using var anyone = gateway.Http();
        var picture = await anyone.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, picture.StatusCode);
        Assert.Equal("image/png", picture.Content.Headers.ContentType!.MediaType);
        Assert.Equal("nosniff", picture.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Contains("immutable", picture.Headers.CacheControl!.ToString());
        Assert.Equal(Png, await picture.Content.ReadAsByteArrayAsync());

        var unversioned = await anyone.GetAsync($"/api/v1/avatars/default/{id}");
        Assert.Equal(TimeSpan.FromMinutes(5), unversioned.Headers.CacheControl!.MaxAge);
        using var again = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/avatars/default/{id}");
        again.Headers.IfNoneMatch.Add(unversioned.Headers.ETag!);
        Assert.Equal(HttpStatusCode.NotModified, (await anyone.SendAsync(again)).StatusCode);

        // A new upload is a new version.
        var second = await Desk.Ok(await agent.PutAsync("/api/v1/agents/me/avatar", Body(Png, contentType: null)));
        Assert.NotEqual(url, second.Str("url"));

        Assert.Equal(HttpStatusCode.NoContent, (await agent.DeleteAsync("/api/v1/agents/me/avatar")).StatusCode);
        Assert.Equal("not_found", await Desk.ProblemCode(await anyone.GetAsync($"/api/v1/avatars/default/{id}"), HttpStatusCode.NotFound));
        Assert.Equal(System.Text.Json.JsonValueKind.Null, (await Desk.Ok(await agent.GetAsync("/api/v1/agents/me"))).GetProperty("avatarUrl").ValueKind);
    }

    [Fact]
    public async Task Pictures_that_are_too_large_not_images_or_of_another_type_are_refused()
    {
        var (_, token) = await gateway.CreateAgentAsync();
        using var agent = gateway.Http(token);
        var huge = new byte[AgentAvatarGrain.MaxBytes + 1];
        Png.CopyTo(huge, 0);
        Assert.Equal("payload_too_large", await Desk.ProblemCode(await agent.PutAsync("/api/v1/agents/me/avatar", Body(huge)), HttpStatusCode.RequestEntityTooLarge));
        Assert.Equal("unsupported_media_type", await Desk.ProblemCode(
            await agent.PutAsync("/api/v1/agents/me/avatar", Body("<html><script>alert(1)</script>"u8.ToArray(), "image/png")), HttpStatusCode.UnsupportedMediaType));
        Assert.Equal("unsupported_media_type", await Desk.ProblemCode(
            await agent.PutAsync("/api/v1/agents/me/avatar", Body(Png, "image/jpeg")), HttpStatusCode.UnsupportedMediaType));
        Assert.Equal("invalid_field", await Desk.ProblemCode(
            await agent.PutAsync("/api/v1/agents/me/avatar", Body(PngHeader(5000, 10))), HttpStatusCode.BadRequest));
        Assert.Equal("invalid_field", await Desk.ProblemCode(await agent.PutAsync("/api/v1/agents/me/avatar", Body([])), HttpStatusCode.BadRequest));
        Assert.Equal(System.Text.Json.JsonValueKind.Null, (await Desk.Ok(await agent.GetAsync("/api/v1/agents/me"))).GetProperty("avatarUrl").ValueKind);
    }

    [Fact]
    public async Task Only_agents_upload_and_the_public_read_names_nothing_else()
    {
        using var anonymous = gateway.Http();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PutAsync("/api/v1/agents/me/avatar", Body(Png))).StatusCode);
        var (_, visitorToken) = await gateway.CreateVisitorAsync();
        using var visitor = gateway.Http(visitorToken);
        Assert.Equal(HttpStatusCode.Forbidden, (await visitor.PutAsync("/api/v1/agents/me/avatar", Body(Png))).StatusCode);

        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync("/api/v1/avatars/default/nobody-here")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync("/api/v1/avatars/No%20Such/admin")).StatusCode);
    }

    /// <summary>A PNG signature and IHDR claiming the given size (the rest of the file is not needed to refuse it).</summary>
    public static byte[] PngHeader(int width, int height)
    {
        var bytes = new byte[33];
        Png.AsSpan(0, 16).CopyTo(bytes);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(16), width);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(20), height);
        return bytes;
    }
}

/// <summary>Type and size read from the bytes of PNG, JPEG and WebP pictures; anything else is not a picture.</summary>
public sealed class ImageProbeTests
{
    [Fact]
    public void Png_jpeg_and_webp_headers_give_type_and_size()
    {
        Assert.Equal(new ImageProbe.Image("image/png", 1, 1), ImageProbe.Read(AvatarTests.Png));
        Assert.Equal(new ImageProbe.Image("image/png", 300, 200), ImageProbe.Read(AvatarTests.PngHeader(300, 200)));

        // SOI, an APP0 segment of 16 bytes, then SOF0: length 17, precision 8, height 120, width 160.
        byte[] jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, .. new byte[14], 0xFF, 0xC0, 0x00, 0x11, 0x08, 0x00, 0x78, 0x00, 0xA0, 0x03, .. new byte[9]];
        Assert.Equal(new ImageProbe.Image("image/jpeg", 160, 120), ImageProbe.Read(jpeg));

        Assert.Equal(new ImageProbe.Image("image/webp", 64, 48), ImageProbe.Read(WebP("VP8 ", [0, 0, 0, 0x9D, 0x01, 0x2A, 64, 0, 48, 0])));
        // Lossless: 0x2F, then width-1 (14 bits) and height-1 (14 bits), little-endian.
        var bits = (uint)(99 | (49 << 14));
        Assert.Equal(new ImageProbe.Image("image/webp", 100, 50),
            ImageProbe.Read(WebP("VP8L", [0x2F, (byte)bits, (byte)(bits >> 8), (byte)(bits >> 16), (byte)(bits >> 24), 0, 0, 0, 0, 0])));
        Assert.Equal(new ImageProbe.Image("image/webp", 512, 256), ImageProbe.Read(WebP("VP8X", [0, 0, 0, 0, 0xFF, 0x01, 0, 0xFF, 0, 0])));
    }

    [Fact]
    public void Other_bytes_are_not_pictures()
    {
        Assert.Null(ImageProbe.Read("<svg xmlns='http://www.w3.org/2000/svg'></svg>"u8));
        Assert.Null(ImageProbe.Read("GIF89a\u0001\0\u0001\0"u8));
        Assert.Null(ImageProbe.Read(AvatarTests.Png.AsSpan(0, 20)));
        Assert.Null(ImageProbe.Read(AvatarTests.PngHeader(0, 10)));
        Assert.Null(ImageProbe.Read([0xFF, 0xD8, 0xFF, 0xD9]));
        Assert.Null(ImageProbe.Read([]));
    }

    private static byte[] WebP(string chunk, byte[] data)
    {
        byte[] bytes = [.. "RIFF"u8, 0, 0, 0, 0, .. "WEBP"u8, .. System.Text.Encoding.ASCII.GetBytes(chunk), 0, 0, 0, 0, .. data];
        return bytes;
    }
}
