using Microsoft.Extensions.Configuration;

namespace Kefu.Samples.GrainClient;

/// <summary>What the sample needs, from the command line or the environment (<c>ConnectionStrings__kefu</c>, …).</summary>
internal sealed record SampleSettings(
    string ConnectionString,
    string ClusterId,
    string ServiceId,
    string Tenant,
    string ConversationId,
    string Text,
    string BotName,
    string ClientMsgId,
    string? Problem)
{
    public static SampleSettings From(IConfiguration configuration)
    {
        var connection = configuration.GetConnectionString("kefu");
        var conversation = configuration["conversation"];
        var text = configuration["text"];
        var problem = string.IsNullOrWhiteSpace(connection) ? "--ConnectionStrings:kefu is required (the cluster's MySQL membership table)."
            : !Ulid.TryParse(conversation, out _) ? "--conversation must be a conversation id (a ULID)."
            : string.IsNullOrWhiteSpace(text) ? "--text is required."
            : null;
        return new SampleSettings(
            connection ?? "",
            configuration["Kefu:Silo:ClusterId"] ?? "kefu",
            configuration["Kefu:Silo:ServiceId"] ?? "kefu",
            configuration["tenant"] ?? "default",
            conversation ?? "",
            text ?? "",
            configuration["bot"] ?? "Grain client sample",
            configuration["clientMsgId"] ?? "grain-client-" + Ulid.NewUlid(),
            problem);
    }
}
