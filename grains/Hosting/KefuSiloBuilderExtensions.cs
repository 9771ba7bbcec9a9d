using System.Net;
using System.Net.Sockets;
using Kefu.Grains.Attachments;
using Kefu.Grains.Directory;
using Kefu.Grains.Dispatch;
using Kefu.Grains.Push;
using Kefu.Grains.Storage;
using Kefu.Grains.Streaming;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Runtime.Hosting;
using Orleans.Serialization;
using Orleans.Storage;

namespace Kefu.Grains.Hosting;

/// <summary>The one place a Kefu silo is configured: the standalone silo host and the embedded gateway both call it.</summary>
public static class KefuSiloBuilderExtensions
{
    /// <summary>
    /// A complete silo. Without <c>ConnectionStrings:kefu</c>: single-machine localhost clustering. With it: membership
    /// through the MySQL table, reachable on the configured ports and advertised address.
    /// </summary>
    public static ISiloBuilder AddKefu(this ISiloBuilder silo, IConfiguration configuration)
    {
        var options = KefuSiloOptions.From(configuration);
        if (KefuCluster.ConnectionString(configuration) is not { } connectionString)
        {
            silo.UseLocalhostClustering(options.SiloPort, options.GatewayPort, serviceId: options.ServiceId, clusterId: options.ClusterId);
            return silo.AddKefuGrains(configuration, singleSilo: true);
        }

        silo.Configure<ClusterOptions>(options.ApplyTo);
        silo.Services.Configure<ClusterMembershipOptions>(configuration.GetSection(KefuCluster.MembershipSection));
        silo.ConfigureEndpoints(Advertised(options.AdvertisedAddress), options.SiloPort, options.GatewayPort, listenOnAnyHostAddress: true);
        silo.UseAdoNetClustering(o =>
        {
            o.Invariant = KefuCluster.Invariant;
            o.ConnectionString = connectionString;
        });
        return silo.AddKefuGrains(configuration);
    }

    /// <summary>
    /// Grain storage, reminders, the message store and silo services, without clustering (test clusters bring their
    /// own): MySQL when <c>ConnectionStrings:kefu</c> is set, process memory otherwise (<paramref name="singleSilo"/>:
    /// a plain dictionary of this process, see <see cref="LocalGrainStorage"/>; else Orleans' memory storage grains,
    /// which several in-memory silos share).
    /// </summary>
    public static ISiloBuilder AddKefuGrains(this ISiloBuilder silo, IConfiguration configuration, bool singleSilo = false)
    {
        var services = silo.Services;
        if (KefuCluster.ConnectionString(configuration) is { } connectionString)
        {
            foreach (var name in (string[])[KefuStorage.Name, KefuStreams.PubSubStore])
            {
                services.AddAdoNetGrainStorage(name, (OptionsBuilder<AdoNetGrainStorageOptions> o) => o.Configure<Serializer>((storage, serializer) =>
                {
                    storage.Invariant = KefuCluster.Invariant;
                    storage.ConnectionString = connectionString;
                    // Orleans' binary, version-tolerant format: no assembly-qualified type names in stored rows.
                    storage.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer);
                }));
            }

            silo.UseAdoNetReminderService(o =>
            {
                o.Invariant = KefuCluster.Invariant;
                o.ConnectionString = connectionString;
            });

            // Our own message store on the same database (its section may point elsewhere).
            services.AddOptions<MySqlMessageStoreOptions>()
                .Configure(o => o.ConnectionString = connectionString)
                .Bind(configuration.GetSection(MySqlMessageStoreOptions.Section));
            services.AddSingleton<MySqlMessageStore>();
            services.AddSingleton<IMessageStore>(sp => sp.GetRequiredService<MySqlMessageStore>());
            services.AddSingleton<IConversationDirectory, MySqlConversationDirectory>();
            services.AddHostedService<MessagePartitionMaintenance>();

            // The outbox lives in the message store's database: a message and its events commit in one transaction.
            services.AddSingleton<Events.MySqlEventLog>();
            services.AddSingleton<Events.IEventLog>(sp => sp.GetRequiredService<Events.MySqlEventLog>());
            services.AddHostedService<Events.EventRetention>();
            services.AddSingleton<Inbound.IInboundRecordStore, Inbound.MySqlInboundRecordStore>();
            services.AddSingleton<Reports.IReportStore, Reports.MySqlReportStore>(); // report rows (deploy/mysql/013)
        }
        else if (singleSilo)
        {
            services.AddGrainStorage(KefuStorage.Name, static (sp, _) =>
                new LocalGrainStorage(new OrleansGrainStorageSerializer(sp.GetRequiredService<Serializer>())));
            silo.UseInMemoryReminderService();
            silo.AddMemoryGrainStorage(KefuStreams.PubSubStore);
        }
        else
        {
            // The same binary format as the MySQL storage: the default JSON serializer made every write of a large
            // state (a dispatcher with a long queue) several times slower.
            silo.AddMemoryGrainStorage(KefuStorage.Name, (OptionsBuilder<MemoryGrainStorageOptions> o) => o.Configure<Serializer>((storage, serializer) =>
                storage.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer)));
            silo.UseInMemoryReminderService();
            silo.AddMemoryGrainStorage(KefuStreams.PubSubStore);
        }

        // Explicit subscriptions live in the pub-sub store above: in MySQL in cluster mode, so they survive restarts.
        silo.AddKefuStreams(configuration);
        services.Configure<ConversationOptions>(configuration.GetSection(ConversationOptions.Section));
        services.Configure<PresenceOptions>(configuration.GetSection(PresenceOptions.Section));
        services.Configure<Participants.VisitorOptions>(configuration.GetSection(Participants.VisitorOptions.Section));
        services.Configure<BootstrapOptions>(configuration.GetSection(BootstrapOptions.Section));
        services.AddKefuDispatch(configuration);
        services.TryAddSingleton(TimeProvider.System);
        services.Configure<Events.EventLogOptions>(configuration.GetSection(Events.EventLogOptions.Section));
        services.Configure<Inbound.InboundOptions>(configuration.GetSection(Inbound.InboundOptions.Section));
        services.TryAddSingleton<Events.InMemoryEventLog>(); // also the retention job's (grains/Retention) view of it
        services.TryAddSingleton<Events.IEventLog>(sp => sp.GetRequiredService<Events.InMemoryEventLog>());
        services.TryAddSingleton<Inbound.IInboundRecordStore, Inbound.InMemoryInboundRecordStore>();
        services.AddHostedService<Inbound.InboundRetention>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Events.IConversationEventSink, Participants.AgentRosterSink>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Events.IConversationEventSink, Activity.MentionSink>()); // @mentions in notes
        services.TryAddSingleton<IMessageStore, InMemoryMessageStore>();
        services.TryAddSingleton<IConversationDirectory, InMemoryConversationDirectory>();
        services.TryAddSingleton<LocalGateways>();
        services.TryAddSingleton<GatewayPusher>();

        // What follows a conversation's committed change (docs/architecture.md, "Events"), in this order.
        services.TryAddSingleton<Events.Sinks.PushSink>();
        services.TryAddSingleton<Events.Sinks.DirectorySink>();
        services.TryAddSingleton<Events.Sinks.TenantConsoleSink>();
        services.AddSingleton<Events.IConversationEventSink>(sp => sp.GetRequiredService<Events.Sinks.PushSink>());
        services.AddSingleton<Events.IConversationEventSink>(sp => sp.GetRequiredService<Events.Sinks.DirectorySink>());
        services.AddSingleton<Events.IConversationEventSink>(sp => sp.GetRequiredService<Events.Sinks.TenantConsoleSink>());
        services.TryAddSingleton<Events.Sinks.ConversationSinks>();
        services.AddKefuAttachmentStorage(configuration); // the retention job's store (the reminder runs on a silo)
        Retention.RetentionServices.AddKefuRetention(services, configuration); // per-tenant retention: after the stores above
        Webhooks.WebhookServices.AddKefuWebhooks(services, configuration); // after the sinks above: it only wakes endpoints
        services.TryAddSingleton<ConversationEvents.ConversationEventsWakeups>(); // inbound events poke it (Kafka on or off)
        Crm.CrmServices.AddKefuCrm(services, configuration);
        Email.MailServices.AddKefuMail(services, configuration); // after the sinks above: it only wakes or starts mail triggers
        Routing.Runtime.RoutingServices.AddKefuRouting(services, configuration); // it wraps the event log registered above
        ConversationEvents.ConversationEventsServices.AddKefuConversationEvents(services, configuration); // after routing: it wraps the event log again (only when Kafka is on)
        Kefu.Plugins.PluginServiceCollectionExtensions.AddKefuPlugins(services, configuration); // the sandbox engine the plugin grains call into
        Plugins.PluginHookServices.AddKefuPluginHooks(services, configuration); // message hooks: options, the after_message readers' wake-ups
        DataProtection.DataProtectionServices.AddKefuDataProtection(services); // the holders a contact's export and erasure call (docs/data-protection.md)
        Reports.ReportServices.AddKefuReports(services, configuration); // the report projection's options and wake-ups (docs/reports.md)
        Search.SearchServices.AddKefuSearch(services, configuration); // conversation search: the index, its indexers, retention and erasure holders

        if (Telemetry.TelemetryOptions.From(configuration).PropagateTraces)
        {
            silo.AddActivityPropagation(); // a grain call continues its caller's trace (docs/operations.md)
        }

        return silo;
    }

    private static IPAddress Advertised(string? address)
    {
        if (string.IsNullOrWhiteSpace(address))
        {
            return IPAddress.Loopback;
        }

        return IPAddress.TryParse(address, out var ip)
            ? ip
            : Dns.GetHostAddresses(address).First(a => a.AddressFamily == AddressFamily.InterNetwork);
    }
}
