using System.Net.Http.Json;
using System.Text.Json;

namespace Kefu.Browser.Tests.Infrastructure;

/// <summary>
/// The console's list comes from the conversation directory, whose rows follow a conversation's messages within about a
/// second (coalesced writes). A test that reloads a console to see a row as it is now first waits for the row.
/// </summary>
public static class DirectoryRows
{
    public static async Task WaitForPreviewAsync(BrowserFixture fixture, string conversationId, string preview)
    {
        using var http = await fixture.AdminHttpAsync();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        string? seen = null;
        do
        {
            var list = await http.GetFromJsonAsync<JsonElement>("/api/v1/conversations?limit=500");
            var row = list.GetProperty("conversations").EnumerateArray().FirstOrDefault(c => c.GetProperty("conversationId").GetString() == conversationId);
            seen = row.ValueKind == JsonValueKind.Object && row.GetProperty("preview").ValueKind == JsonValueKind.String ? row.GetProperty("preview").GetString() : null;
            if (seen == preview)
            {
                return;
            }

            await Task.Delay(50);
        }
        while (DateTime.UtcNow < deadline);

        Assert.Fail($"The directory never showed '{preview}' for {conversationId} (last: '{seen}').");
    }
}
