namespace Kefu.Grains.Hosting;

/// <summary>Bound from "Kefu:Silo": where the silo listens and which cluster it belongs to.</summary>
public sealed class KefuSiloOptions
{
    public const string Section = "Kefu:Silo";

    public string ClusterId { get; set; } = "kefu";

    public string ServiceId { get; set; } = "kefu";

    public int SiloPort { get; set; } = 11111;

    public int GatewayPort { get; set; } = 30000;

    /// <summary>
    /// Cluster mode: the host name or IP other members use to reach this silo (resolved at start); loopback when unset.
    /// </summary>
    public string? AdvertisedAddress { get; set; }

    public static KefuSiloOptions From(Microsoft.Extensions.Configuration.IConfiguration configuration) =>
        Microsoft.Extensions.Configuration.ConfigurationBinder.Get<KefuSiloOptions>(configuration.GetSection(Section)) ?? new KefuSiloOptions();

    /// <summary>Silos and clients of one deployment must agree on these.</summary>
    public void ApplyTo(Orleans.Configuration.ClusterOptions cluster)
    {
        cluster.ClusterId = ClusterId;
        cluster.ServiceId = ServiceId;
    }
}

/// <summary>Where durable data lives. Set <c>ConnectionStrings:kefu</c> and Kefu runs in cluster mode on MySQL.</summary>
public static class KefuCluster
{
    public const string ConnectionStringName = "kefu";

    /// <summary>The ADO.NET invariant Orleans maps to MySqlConnector.</summary>
    public const string Invariant = "MySql.Data.MySqlConnector";

    /// <summary>Cluster-membership timing (probe timeouts etc.), bound to Orleans' ClusterMembershipOptions.</summary>
    public const string MembershipSection = "Kefu:Membership";

    public static string? ConnectionString(Microsoft.Extensions.Configuration.IConfiguration configuration) =>
        Microsoft.Extensions.Configuration.ConfigurationExtensions.GetConnectionString(configuration, ConnectionStringName) is { Length: > 0 } value
            ? value
            : null;
}

/// <summary>Bound from "Kefu:Conversations".</summary>
public sealed class ConversationOptions
{
    public const string Section = "Kefu:Conversations";

    /// <summary>Hard upper bound on a message's text, in characters; gateways may enforce a lower one.</summary>
    public int MaxTextLength { get; set; } = 65_536;

    /// <summary>Messages kept in the grain so resume and history paging rarely touch the store.</summary>
    public int RecentWindow { get; set; } = 256;

    /// <summary>How many recent (sender, clientMsgId) pairs are remembered to answer retries with the original ack.</summary>
    public int IdempotencyWindow { get; set; } = 4096;

    /// <summary>At most one directory write per conversation per this interval for per-message changes (preview, unread).</summary>
    public TimeSpan DirectoryWriteInterval { get; set; } = TimeSpan.FromSeconds(1);
}

/// <summary>Bound from "Kefu:Presence": how long a gateway's word about a connection holds without a heartbeat.</summary>
public sealed class PresenceOptions
{
    public const string Section = "Kefu:Presence";

    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A participant's connections on a gateway that sent no heartbeat for this long are dropped.</summary>
    public TimeSpan Expiry { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>Bound from "Kefu:Bootstrap": what a brand-new installation starts with.</summary>
public sealed class BootstrapOptions
{
    public const string Section = "Kefu:Bootstrap";

    /// <summary>
    /// The public key the <c>default</c> tenant's <c>default</c> inbox gets when it is created (a well-formed
    /// <c>pk_…</c> key); unset or malformed: a random one. Keeps a pasted widget snippet working when the embedded
    /// in-memory default re-creates the inbox at every start.
    /// </summary>
    public string? DefaultInboxKey { get; set; }
}

public static class KefuStorage
{
    /// <summary>The grain-storage provider every Kefu grain uses.</summary>
    public const string Name = "kefu";
}
