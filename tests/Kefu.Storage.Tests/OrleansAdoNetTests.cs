using System.Net;
using Kefu.Storage.Tests.Cluster;
using Microsoft.Extensions.DependencyInjection;
using MySqlConnector;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Messaging;
using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Storage;

namespace Kefu.Storage.Tests;

/// <summary>
/// deploy/mysql/001-orleans.sql against the real Orleans ADO.NET providers: real silo and client hosts on loopback
/// ports, clustering, grain storage and reminders all on a fresh MariaDB database (one per test class).
/// </summary>
public sealed class OrleansAdoNetTests(MariaDbDatabase database) : IClassFixture<MariaDbDatabase>
{
    private const int Active = 3;
    private const int Dead = 6;


    [Fact]
    public async Task Schema_applies_to_an_empty_database_and_records_every_script_version()
    {
        // Each deploy/mysql/NNN-*.sql records version NNN: all of them, and nothing else.
        var expectedVersions = MariaDbDatabase.SchemaScripts.Select(f => int.Parse(Path.GetFileName(f)[..3], System.Globalization.CultureInfo.InvariantCulture));
        var versions = await QueryAsync("SELECT version FROM kefu_schema_version ORDER BY version", r => r.GetInt32(0));
        Assert.Contains(1, versions);
        Assert.Equal(expectedVersions, versions);

        var keys = await QueryAsync("SELECT QueryKey FROM OrleansQuery ORDER BY QueryKey", r => r.GetString(0));
        string[] expected =
        [
            // clustering (CleanupDefunctSiloEntryKey is optional for Orleans; the rest are required)
            "CleanupDefunctSiloEntriesKey", "CleanupDefunctSiloEntryKey", "DeleteMembershipTableEntriesKey",
            "GatewaysQueryKey", "InsertMembershipKey", "InsertMembershipVersionKey", "MembershipReadAllKey",
            "MembershipReadRowKey", "UpdateIAmAlivetimeKey", "UpdateMembershipKey",

            // grain persistence (DeleteStorageKey only for DeleteStateOnClear = true)
            "ClearStorageKey", "DeleteStorageKey", "ReadFromStorageKey", "WriteToStorageKey",

            // reminders
            "DeleteReminderRowKey", "DeleteReminderRowsKey", "ReadRangeRows1Key", "ReadRangeRows2Key",
            "ReadReminderRowKey", "ReadReminderRowsKey", "UpsertReminderRowKey",
        ];
        Assert.Equal(expected.Order(StringComparer.Ordinal), keys.Order(StringComparer.Ordinal));

        var payloadType = await QueryAsync(
            "SELECT DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() " +
            "AND TABLE_NAME = 'orleans_grain_state' AND COLUMN_NAME = 'payload'",
            r => r.GetString(0));
        Assert.Equal(["longblob"], payloadType);
    }

    [Fact]
    public async Task Two_silos_join_the_membership_table_and_a_client_connects_through_their_gateways()
    {
        var names = ClusterNames.New();
        await using var hosts = new HostGroup();

        // Started together, as a deployment would: both race to create the cluster's version row.
        var silos = await Task.WhenAll(
            hosts.Add(TestSilo.StartAsync(names, database.ConnectionString)),
            hosts.Add(TestSilo.StartAsync(names, database.ConnectionString)));

        var members = await MembersAsync(names);
        Assert.Equal(2, members.Count);
        foreach (var silo in silos)
        {
            var row = Assert.Single(members, m => m.Port == silo.SiloPort);
            Assert.Equal(Active, row.Status);
            Assert.Equal("127.0.0.1", row.Address);
            Assert.Equal(silo.GatewayPort, row.ProxyPort);
            Assert.Equal(silo.Address.Generation, row.Generation);
        }

        var tableVersion = await QueryAsync(
            "SELECT version FROM orleans_membership_version WHERE deployment_id = @id",
            r => r.GetInt32(0),
            ("id", names.ClusterId));
        Assert.True(Assert.Single(tableVersion) >= 4, "every join step (Joining, Active) of both silos moves the version on");

        // The client has no static gateway list: it can only know the gateways from GatewaysQueryKey.
        var client = await hosts.Add(TestClient.StartAsync(names, database.ConnectionString));
        var gateways = await client.Services.GetRequiredService<IGatewayListProvider>().GetGatewaysAsync();
        Assert.Equal(silos.Select(s => s.GatewayPort).Order(), gateways.Select(g => g.Port).Order());

        var grain = client.Cluster.GetGrain<IStoredTextGrain>("join");
        await grain.WriteAsync("hello");
        Assert.Equal("hello", (await grain.ReadAsync()).Text);
    }

    [Fact]
    public async Task Grain_state_over_64_KiB_survives_a_full_cluster_restart_and_clear_removes_it()
    {
        var names = ClusterNames.New();
        var large = string.Create(200_000, 0, (span, _) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = (char)('a' + (i * 7 % 26));
            }
        });

        await using (var hosts = new HostGroup())
        {
            await hosts.Add(TestSilo.StartAsync(names, database.ConnectionString));
            await hosts.Add(TestSilo.StartAsync(names, database.ConnectionString));
            var client = await hosts.Add(TestClient.StartAsync(names, database.ConnectionString));

            var small = client.Cluster.GetGrain<IStoredTextGrain>("small");
            await small.WriteAsync("first");
            await small.WriteAsync("second");
            Assert.Equal("2", (await small.ReadAsync()).ETag);

            await client.Cluster.GetGrain<IStoredTextGrain>("large").WriteAsync(large);
        }

        // Every silo is gone; only the database remembers.
        var payloadBytes = await QueryAsync(
            "SELECT LENGTH(payload) FROM orleans_grain_state WHERE service_id = @service AND grain_id_ext = 'large'",
            r => r.GetInt64(0),
            ("service", names.ServiceId));
        Assert.True(Assert.Single(payloadBytes) > 64 * 1024, "the large state is stored whole");

        await using (var hosts = new HostGroup())
        {
            await hosts.Add(TestSilo.StartAsync(names, database.ConnectionString));
            await hosts.Add(TestSilo.StartAsync(names, database.ConnectionString));
            var client = await hosts.Add(TestClient.StartAsync(names, database.ConnectionString));

            var small = await client.Cluster.GetGrain<IStoredTextGrain>("small").ReadAsync();
            Assert.Equal(new StoredTextView("second", 2, "2", RecordExists: true), small);

            var largeGrain = client.Cluster.GetGrain<IStoredTextGrain>("large");
            var restored = await largeGrain.ReadAsync();
            Assert.True(restored.RecordExists);
            Assert.Equal(large, restored.Text);

            await largeGrain.ClearAsync();
            await largeGrain.DeactivateAsync();
            await Wait.UntilAsync(
                async () => (await largeGrain.ReadAsync()) is { RecordExists: false, Text: "" },
                "a fresh activation reads the cleared state");
            Assert.Equal("2", (await largeGrain.ReadAsync()).ETag);
        }

        var cleared = await QueryAsync(
            "SELECT payload IS NULL FROM orleans_grain_state WHERE service_id = @service AND grain_id_ext = 'large'",
            r => r.GetBoolean(0),
            ("service", names.ServiceId));
        Assert.Equal([true], cleared);
    }

    [Fact]
    public async Task Grain_storage_rejects_writes_and_clears_with_a_stale_etag()
    {
        const string StateName = "storedText";
        var names = ClusterNames.New();
        await using var hosts = new HostGroup();
        var silo = await hosts.Add(TestSilo.StartAsync(names, database.ConnectionString, s =>
            s.AddAdoNetGrainStorage("kefu-delete", ob => ob.Configure<Serializer>((o, serializer) =>
            {
                o.Invariant = KefuOrleansWiring.Invariant;
                o.ConnectionString = database.ConnectionString;
                o.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer);
                o.DeleteStateOnClear = true;
            }))));

        // Two "activations" of the same grain state, driven straight through the provider.
        var storage = silo.Services.GetRequiredKeyedService<IGrainStorage>(KefuOrleansWiring.StorageName);
        var id = GrainId.Create("storedtext", "contended");
        var first = new GrainState<StoredText>(new StoredText());
        var second = new GrainState<StoredText>(new StoredText());
        await storage.ReadStateAsync(StateName, id, first);
        await storage.ReadStateAsync(StateName, id, second);
        Assert.Null(first.ETag);
        Assert.False(first.RecordExists);

        first.State = new StoredText { Text = "from first" };
        await storage.WriteStateAsync(StateName, id, first);
        Assert.Equal("1", first.ETag);

        second.State = new StoredText { Text = "from second" };
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(StateName, id, second));

        await storage.ReadStateAsync(StateName, id, second);
        Assert.Equal(("from first", "1", true), (second.State?.Text, second.ETag, second.RecordExists));
        second.State = new StoredText { Text = "from second" };
        await storage.WriteStateAsync(StateName, id, second);
        Assert.Equal("2", second.ETag);

        first.State = new StoredText { Text = "lost update" };
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(StateName, id, first));
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.ClearStateAsync(StateName, id, first));

        var fresh = new GrainState<StoredText>(new StoredText());
        await storage.ReadStateAsync(StateName, id, fresh);
        Assert.Equal(("from second", "2"), (fresh.State?.Text, fresh.ETag));

        // Clear keeps the row (payload NULL) and moves the ETag on; writing again continues from there.
        await storage.ClearStateAsync(StateName, id, second);
        Assert.Equal(("3", false), (second.ETag, second.RecordExists));
        await storage.ReadStateAsync(StateName, id, fresh);
        Assert.Equal(("", "3", false), (fresh.State?.Text, fresh.ETag, fresh.RecordExists));
        fresh.State = new StoredText { Text = "after clear" };
        await storage.WriteStateAsync(StateName, id, fresh);
        Assert.Equal("4", fresh.ETag);

        // DeleteStateOnClear = true removes the row; the next write starts a new one.
        var deleting = silo.Services.GetRequiredKeyedService<IGrainStorage>("kefu-delete");
        var doomedId = GrainId.Create("storedtext", "doomed");
        var doomed = new GrainState<StoredText>(new StoredText { Text = "short-lived" });
        await deleting.WriteStateAsync("doomedText", doomedId, doomed);
        await deleting.ClearStateAsync("doomedText", doomedId, doomed);
        Assert.Null(doomed.ETag);
        Assert.Equal(
            [0L],
            await QueryAsync(
                "SELECT COUNT(*) FROM orleans_grain_state WHERE service_id = @service AND grain_type = 'doomedText'",
                r => r.GetInt64(0),
                ("service", names.ServiceId)));
        await deleting.WriteStateAsync("doomedText", doomedId, doomed);
        Assert.Equal("1", doomed.ETag);
    }

    [Fact]
    public async Task Reminder_fires_and_survives_a_silo_restart()
    {
        var names = ClusterNames.New();
        var key = $"ticker-{Guid.NewGuid():N}";

        await using (var hosts = new HostGroup())
        {
            var silo = await hosts.Add(TestSilo.StartAsync(names, database.ConnectionString));
            var client = await hosts.Add(TestClient.StartAsync(names, database.ConnectionString));
            await client.Cluster.GetGrain<ITickingGrain>(key).StartTickingAsync(TimeSpan.FromSeconds(1));
            await Wait.UntilAsync(() => Task.FromResult(ReminderTicks.Count(key, silo.Address) >= 2), "the reminder ticks");
        }

        Assert.Equal([1L], await ReminderRowsAsync(names));

        await using (var hosts = new HostGroup())
        {
            // Nothing calls the grain: only the reminder table can bring the reminder back.
            var silo = await hosts.Add(TestSilo.StartAsync(names, database.ConnectionString));
            await Wait.UntilAsync(
                () => Task.FromResult(ReminderTicks.Count(key, silo.Address) >= 1),
                "the reminder ticks on the new silo");

            var client = await hosts.Add(TestClient.StartAsync(names, database.ConnectionString));
            await client.Cluster.GetGrain<ITickingGrain>(key).StopTickingAsync();
            Assert.Equal([0L], await ReminderRowsAsync(names));
        }
    }

    [Fact]
    public async Task Killed_silo_is_declared_dead_by_the_surviving_silo()
    {
        var names = ClusterNames.New();
        static void FastFailureDetection(ISiloBuilder silo) => silo.Configure<ClusterMembershipOptions>(o =>
        {
            o.ProbeTimeout = TimeSpan.FromSeconds(1);
            o.NumMissedProbesLimit = 2;
            o.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(2);
            o.TableRefreshTimeout = TimeSpan.FromSeconds(2);

            // Also bounds how long the killed silo retries its own status updates against the unreachable database
            // (Stopping, then Dead) before its shutdown can finish.
            o.MaxJoinAttemptTime = TimeSpan.FromSeconds(5);
        });

        var server = new MySqlConnectionStringBuilder(database.ConnectionString);
        await using var forwarder = new TcpForwarder(new IPEndPoint(IPAddress.Parse(server.Server), (int)server.Port));
        var throughForwarder = new MySqlConnectionStringBuilder(database.ConnectionString) { Port = (uint)forwarder.Port };

        await using var hosts = new HostGroup();
        var survivor = await hosts.Add(TestSilo.StartAsync(names, database.ConnectionString, FastFailureDetection));
        var victim = await hosts.Add(TestSilo.StartAsync(names, throughForwarder.ConnectionString, FastFailureDetection));
        await Wait.UntilAsync(
            async () => (await MembersAsync(names)).Count(m => m.Status == Active) == 2,
            "both silos are Active");

        // The victim's machine dies: its database connection is gone, and the silo stops without a graceful exit (its
        // own attempts to record Stopping and Dead cannot reach the database). Only the survivor can declare it Dead.
        forwarder.Cut();
        var killing = victim.KillAsync();

        // Failure detection is timing-based (probes, suspicion, the table refresh): on 2 cores shared with the other test
        // projects of a CI run it once took over 30 s, so this wait gets more patience than the default.
        await Wait.UntilAsync(
            async () => (await MembersAsync(names)).Single(m => m.Port == victim.SiloPort).Status == Dead,
            "the survivor declares the victim Dead",
            TimeSpan.FromSeconds(90));
        var members = await MembersAsync(names);
        var victimRow = members.Single(m => m.Port == victim.SiloPort);
        Assert.Contains(survivor.Address.ToParsableString(), victimRow.SuspectTimes ?? string.Empty, StringComparison.Ordinal);
        Assert.Equal(Active, members.Single(m => m.Port == survivor.SiloPort).Status);

        await killing.WaitAsync(TimeSpan.FromSeconds(45));
    }

    private sealed record MemberRow(string Address, int Port, int Generation, int Status, int ProxyPort, string? SuspectTimes);

    private Task<List<MemberRow>> MembersAsync(ClusterNames names) =>
        QueryAsync(
            "SELECT address, port, generation, status, proxy_port, suspect_times FROM orleans_membership " +
            "WHERE deployment_id = @id",
            r => new MemberRow(
                r.GetString(0),
                r.GetInt32(1),
                r.GetInt32(2),
                r.GetInt32(3),
                r.GetInt32(4),
                r.IsDBNull(5) ? null : r.GetString(5)),
            ("id", names.ClusterId));

    private Task<List<long>> ReminderRowsAsync(ClusterNames names) =>
        QueryAsync(
            "SELECT COUNT(*) FROM orleans_reminder WHERE service_id = @service AND reminder_name = @name",
            r => r.GetInt64(0),
            ("service", names.ServiceId),
            ("name", TickingGrain.ReminderName));

    private async Task<List<T>> QueryAsync<T>(string sql, Func<MySqlDataReader, T> read, params (string Name, object Value)[] parameters)
    {
        await using var connection = new MySqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new MySqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<T>();
        while (await reader.ReadAsync())
        {
            rows.Add(read(reader));
        }

        return rows;
    }
}
