using System.Net.Http.Json;
using System.Text.Json;

namespace Kefu.Gateway.Tests.Infrastructure;

/// <summary>
/// <c>GET /api/v1/conversations</c> for tests. The list answers from the directory, whose rows follow a conversation's
/// messages within about a second (coalesced writes), so a test waits for the row it expects instead of reading once.
/// </summary>
public static class ConversationList
{
    public static async Task<JsonElement[]> GetAsync(HttpClient http, string query = "")
    {
        var response = await http.GetAsync("/api/v1/conversations" + query);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {text}");
        return [.. JsonDocument.Parse(text).RootElement.GetProperty("conversations").EnumerateArray().Select(c => c.Clone())];
    }

    /// <summary>The conversation's row once it satisfies <paramref name="condition"/>; fails after 20 seconds.</summary>
    public static async Task<JsonElement> WaitForRowAsync(HttpClient http, string conversationId, Func<JsonElement, bool> condition, string query = "")
    {
        var list = await WaitForAsync(http, l => l.Any(c => c.Str("conversationId") == conversationId && condition(c)), $"{conversationId} as expected", query);
        return list.First(c => c.Str("conversationId") == conversationId);
    }

    /// <summary>The list once it satisfies <paramref name="condition"/>; fails after 20 seconds.</summary>
    public static async Task<JsonElement[]> WaitForAsync(HttpClient http, Func<JsonElement[], bool> condition, string what, string query = "")
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        JsonElement[] list;
        do
        {
            list = await GetAsync(http, query);
            if (condition(list))
            {
                return list;
            }

            await Task.Delay(50);
        }
        while (DateTime.UtcNow < deadline);

        Assert.Fail($"The list never showed {what}: {string.Join(", ", list.Select(r => r.GetRawText()))}");
        return list;
    }
}
