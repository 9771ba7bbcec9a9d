using System.Net;
using Kefu.Storage.Tests.Cluster;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MySqlConnector;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Runtime;
using Orleans.Runtime.Membership;
using Orleans.Runtime.MembershipService;

namespace Kefu.Storage.Tests;

/// <summary>
/// The edges of the query contract that a healthy cluster rarely reaches (stale versions, duplicates, wrapped hash
/// ranges, long periods, cleanup), driven through the Orleans provider classes themselves, without silos.
/// </summary>
public sealed class OrleansProviderContractTests(MariaDbDatabase database) : IClassFixture<MariaDbDatabase>
{
    [Fact]
    public async Task Membership_changes_need_the_current_table_version()
    {
        var table = MembershipTable(out _);
        await table.InitializeMembershipTableAsync(tryInitTableVersion: true);
        await table.InitializeMembershipTableAsync(tryInitTableVersion: true);

        var empty = await table.ReadAllAsync();
        Assert.Empty(empty.Members);
        Assert.Equal(0, empty.Version.Version);

        var a = Entry(11111, SiloStatus.Joining);
        Assert.True(await table.InsertRowAsync(a, empty.Version.Next()));
        Assert.False(await table.InsertRowAsync(Entry(22222, SiloStatus.Joining), empty.Version.Next()));

        var afterA = await table.ReadAllAsync();
        Assert.Equal(1, afterA.Version.Version);
        var (storedA, etagA) = Assert.Single(afterA.Members);
        AssertSameEntry(a, storedA);
        Assert.Equal("1", etagA);

        Assert.False(await table.InsertRowAsync(a, afterA.Version.Next()), "a silo is inserted once");
        Assert.Single((await table.ReadAllAsync()).Members);

        var b = Entry(22222, SiloStatus.Joining);
        var beforeB = await table.ReadAllAsync();
        Assert.True(await table.InsertRowAsync(b, beforeB.Version.Next()));

        var current = await table.ReadAllAsync();
        Assert.Equal(2, current.Members.Count);
        var changed = current.TryGet(a.SiloAddress)!.Item1;
        var vote = Millis(DateTime.UtcNow.AddSeconds(-3));
        changed.Status = SiloStatus.Active;
        changed.SuspectTimes = [Tuple.Create(b.SiloAddress, vote)];
        Assert.True(await table.UpdateRowAsync(changed, current.Version.VersionEtag, current.Version.Next()));
        Assert.False(
            await table.UpdateRowAsync(changed, current.Version.VersionEtag, current.Version.Next()),
            "the version has moved on");

        var row = await table.ReadRowAsync(a.SiloAddress);
        var (readBack, _) = Assert.Single(row.Members);
        Assert.Equal(SiloStatus.Active, readBack.Status);
        var suspect = Assert.Single(readBack.SuspectTimes!);
        Assert.Equal((b.SiloAddress, vote), (suspect.Item1, suspect.Item2));
        Assert.Equal(current.Version.Version + 1, row.Version.Version);

        // Heartbeats do not touch the version and never move backwards.
        var later = Millis(DateTime.UtcNow.AddMinutes(1));
        await table.UpdateIAmAliveAsync(new MembershipEntry { SiloAddress = a.SiloAddress, IAmAliveTime = later });
        await table.UpdateIAmAliveAsync(new MembershipEntry { SiloAddress = a.SiloAddress, IAmAliveTime = later.AddMinutes(-5) });
        var afterHeartbeats = await table.ReadRowAsync(a.SiloAddress);
        Assert.Equal(later, afterHeartbeats.Members.Single().Item1.IAmAliveTime);
        Assert.Equal(row.Version.Version, afterHeartbeats.Version.Version);
    }

    [Fact]
    public async Task Creating_the_version_row_reports_whether_it_was_created()
    {
        var query = Assert.Single(await QueryAsync(
            "SELECT QueryText FROM OrleansQuery WHERE QueryKey = 'InsertMembershipVersionKey'", r => r.GetString(0)));
        var clusterId = ClusterNames.New().ClusterId;
        Assert.Equal([1L], await QueryAsync(query, r => r.GetInt64(0), ("DeploymentId", clusterId)));
        Assert.Equal([0L], await QueryAsync(query, r => r.GetInt64(0), ("DeploymentId", clusterId)));
    }

    [Fact]
    public async Task Gateways_are_the_active_silos_that_accept_clients()
    {
        var table = MembershipTable(out var names);
        await table.InitializeMembershipTableAsync(tryInitTableVersion: true);
        var gateway = Entry(31001, SiloStatus.Active, proxyPort: 41001);
        foreach (var entry in new[]
                 {
                     gateway,
                     Entry(31002, SiloStatus.Active, proxyPort: 0),
                     Entry(31003, SiloStatus.Joining, proxyPort: 41003),
                     Entry(31004, SiloStatus.Dead, proxyPort: 41004),
                 })
        {
            Assert.True(await table.InsertRowAsync(entry, (await table.ReadAllAsync()).Version.Next()));
        }

        var gateways = new AdoNetGatewayListProvider(
            NullLogger<AdoNetGatewayListProvider>.Instance,
            new ServiceCollection().BuildServiceProvider(),
            Options.Create(new AdoNetClusteringClientOptions
            {
                Invariant = KefuOrleansWiring.Invariant,
                ConnectionString = database.ConnectionString,
            }),
            Options.Create(new GatewayOptions()),
            Options.Create(new ClusterOptions { ClusterId = names.ClusterId, ServiceId = names.ServiceId }));
        await gateways.InitializeGatewayListProviderAsync();

        var uri = Assert.Single(await gateways.GetGatewaysAsync());
        Assert.Equal(41001, uri.Port);
        Assert.Equal(SiloAddress.New(IPAddress.Loopback, 41001, gateway.SiloAddress.Generation).ToGatewayUri(), uri);
    }

    [Fact]
    public async Task Old_dead_silos_are_cleaned_up_and_a_cluster_can_be_deleted()
    {
        var table = MembershipTable(out var names);
        await table.InitializeMembershipTableAsync(tryInitTableVersion: true);
        var longAgo = DateTime.UtcNow.AddHours(-3); // full precision: the stored DATETIME(6) keeps microseconds
        var oldDead = Entry(32001, SiloStatus.Dead, start: longAgo, alive: longAgo);
        var recentDead = Entry(32002, SiloStatus.Dead, start: longAgo, alive: Millis(DateTime.UtcNow));
        var oldActive = Entry(32003, SiloStatus.Active, start: longAgo, alive: longAgo);
        var anotherOldDead = Entry(32004, SiloStatus.Dead, start: longAgo, alive: longAgo);
        foreach (var entry in new[] { oldDead, recentDead, oldActive })
        {
            Assert.True(await table.InsertRowAsync(entry, (await table.ReadAllAsync()).Version.Next()));
        }

        // Orleans 10 picks the rows in .NET and deletes each with CleanupDefunctSiloEntryKey.
        await table.CleanupDefunctSiloEntriesAsync(DateTimeOffset.UtcNow.AddHours(-1));
        var ports = (await table.ReadAllAsync()).Members.Select(m => m.Item1.SiloAddress.Endpoint.Port).Order();
        Assert.Equal([32002, 32003], ports);

        // The bulk form (CleanupDefunctSiloEntriesKey) only runs when the per-row query is missing: run it directly.
        Assert.True(await table.InsertRowAsync(anotherOldDead, (await table.ReadAllAsync()).Version.Next()));
        var bulk = Assert.Single(await QueryAsync(
            "SELECT QueryText FROM OrleansQuery WHERE QueryKey = 'CleanupDefunctSiloEntriesKey'", r => r.GetString(0)));
        Assert.Equal(
            1,
            await ExecuteAsync(bulk, ("DeploymentId", names.ClusterId), ("IAmAliveTime", DateTime.UtcNow.AddHours(-1))));
        ports = (await table.ReadAllAsync()).Members.Select(m => m.Item1.SiloAddress.Endpoint.Port).Order();
        Assert.Equal([32002, 32003], ports);

        await table.DeleteMembershipTableEntriesAsync(names.ClusterId);
        Assert.Equal(
            [0L, 0L],
            await QueryAsync(
                "SELECT (SELECT COUNT(*) FROM orleans_membership WHERE deployment_id = @id) " +
                "UNION ALL SELECT (SELECT COUNT(*) FROM orleans_membership_version WHERE deployment_id = @id)",
                r => r.GetInt64(0),
                ("id", names.ClusterId)));
    }

    [Fact]
    public async Task Reminder_table_upserts_reads_hash_ranges_and_removes_with_etags()
    {
        var names = ClusterNames.New();
        var services = new ServiceCollection();
        services.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = names.ClusterId;
            o.ServiceId = names.ServiceId;
        });
        services.UseAdoNetReminderService(ob => ob.Configure(o =>
        {
            o.Invariant = KefuOrleansWiring.Invariant;
            o.ConnectionString = database.ConnectionString;
        }));
        await using var provider = services.BuildServiceProvider();
        var table = provider.GetRequiredService<IReminderTable>();
        await table.StartAsync();

        var grain = GrainId.Create("ticking", "contract");
        var start = Millis(DateTime.UtcNow.AddMinutes(10));
        var first = await table.UpsertRow(Reminder(grain, "r1", start, TimeSpan.FromHours(1)));
        var second = await table.UpsertRow(Reminder(grain, "r1", start, TimeSpan.FromHours(2)));
        Assert.NotEqual(first, second);

        // A period beyond int.MaxValue milliseconds is passed as a long and must survive.
        var monthly = TimeSpan.FromDays(30);
        await table.UpsertRow(Reminder(grain, "r2", start, monthly));

        var r1 = await table.ReadRow(grain, "r1");
        Assert.NotNull(r1);
        Assert.Equal((grain, "r1", start, TimeSpan.FromHours(2), second), (r1.GrainId, r1.ReminderName, r1.StartAt, r1.Period, r1.ETag));
        Assert.Equal(monthly, (await table.ReadRow(grain, "r2"))!.Period);
        Assert.Equal(["r1", "r2"], (await table.ReadRows(grain)).Reminders.Select(r => r.ReminderName).Order());

        Assert.False(await table.RemoveRow(grain, "r1", first!), "a stale ETag removes nothing");
        Assert.NotNull(await table.ReadRow(grain, "r1"));
        Assert.True(await table.RemoveRow(grain, "r1", second!));
        Assert.Null(await table.ReadRow(grain, "r1"));

        // Ranges of the uint hash ring; the SQL compares the hashes as signed INTs.
        var grains = Enumerable.Range(0, 64).Select(i => GrainId.Create("ticking", $"ring-{i}")).ToList();
        foreach (var g in grains)
        {
            await table.UpsertRow(Reminder(g, "ring", start, TimeSpan.FromHours(1)));
        }

        (uint Begin, uint End)[] ranges =
        [
            (0u, 0x7FFFFFFFu),          // plain, positive as signed
            (0x20000000u, 0xE0000000u), // crosses the signed boundary: wraps when compared as signed
            (0xF0000000u, 0x30000000u), // wraps the uint ring, plain when compared as signed
            (0x90000000u, 0x10000000u), // wraps both ways
            (0x12345678u, 0x12345678u), // begin = end: the whole ring
        ];
        foreach (var (begin, end) in ranges)
        {
            var expected = grains.Where(g => InRing(g.GetUniformHashCode(), begin, end)).Order().ToList();
            var actual = (await table.ReadRows(begin, end)).Reminders
                .Where(r => r.ReminderName == "ring")
                .Select(r => r.GrainId)
                .Order()
                .ToList();
            Assert.Equal(expected, actual);
        }

        await table.TestOnlyClearTable();
        Assert.Empty((await table.ReadRows(0u, 0u)).Reminders);
    }

    private static bool InRing(uint hash, uint begin, uint end) =>
        begin < end ? hash > begin && hash <= end : hash > begin || hash <= end;

    private static ReminderEntry Reminder(GrainId grain, string name, DateTime start, TimeSpan period) =>
        new() { GrainId = grain, ReminderName = name, StartAt = start, Period = period };

    private static DateTime Millis(DateTime time) =>
        new(time.Ticks - (time.Ticks % TimeSpan.TicksPerMillisecond), DateTimeKind.Utc);

    private static MembershipEntry Entry(
        int port, SiloStatus status, int proxyPort = 0, DateTime? start = null, DateTime? alive = null)
    {
        var now = Millis(DateTime.UtcNow);
        return new MembershipEntry
        {
            SiloAddress = SiloAddress.New(IPAddress.Loopback, port, 170_000_000 + port),
            SiloName = $"silo-{port}",
            HostName = "contract-host",
            Status = status,
            ProxyPort = proxyPort,
            StartTime = start ?? now,
            IAmAliveTime = alive ?? now,
        };
    }

    private static void AssertSameEntry(MembershipEntry expected, MembershipEntry actual)
    {
        Assert.Equal(expected.SiloAddress, actual.SiloAddress);
        Assert.Equal(expected.SiloName, actual.SiloName);
        Assert.Equal(expected.HostName, actual.HostName);
        Assert.Equal(expected.Status, actual.Status);
        Assert.Equal(expected.ProxyPort, actual.ProxyPort);
        Assert.Equal(expected.StartTime, actual.StartTime);
        Assert.Equal(expected.IAmAliveTime, actual.IAmAliveTime);
        Assert.Null(actual.SuspectTimes);
    }

    private AdoNetClusteringTable MembershipTable(out ClusterNames names)
    {
        names = ClusterNames.New();
        return new AdoNetClusteringTable(
            new ServiceCollection().BuildServiceProvider(),
            Options.Create(new ClusterOptions { ClusterId = names.ClusterId, ServiceId = names.ServiceId }),
            Options.Create(new AdoNetClusteringSiloOptions
            {
                Invariant = KefuOrleansWiring.Invariant,
                ConnectionString = database.ConnectionString,
            }),
            NullLogger<AdoNetClusteringTable>.Instance);
    }

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
        do
        {
            while (await reader.ReadAsync())
            {
                rows.Add(read(reader));
            }
        }
        while (await reader.NextResultAsync());

        return rows;
    }

    private async Task<int> ExecuteAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new MySqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new MySqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return await command.ExecuteNonQueryAsync();
    }
}
