using System.Reflection;
using System.Runtime.InteropServices;
using Confluent.Kafka;

namespace Kefu.Grains.Tests.ConversationEvents;

/// <summary>
/// Takes librdkafka mock brokers down and up (rd_kafka_handle_mock_cluster, rd_kafka_mock_broker_set_down/up: connections are closed and refused
/// until up again), through the librdkafka this process already loaded for Confluent.Kafka — the mock cluster lives in
/// it. Confluent.Kafka does not expose the mock API, so the client's native handle is read by reflection.
/// </summary>
public sealed class MockBrokers
{
    private readonly IntPtr _cluster;
    private readonly SetBroker _down;
    private readonly SetBroker _up;

    public MockBrokers(IClient admin)
    {
        ArgumentNullException.ThrowIfNull(admin);
        var library = NativeLibrary.Load(LoadedLibrdkafka());
        var clusterOf = Marshal.GetDelegateForFunctionPointer<ClusterHandle>(NativeLibrary.GetExport(library, "rd_kafka_handle_mock_cluster"));
        _down = Marshal.GetDelegateForFunctionPointer<SetBroker>(NativeLibrary.GetExport(library, "rd_kafka_mock_broker_set_down"));
        _up = Marshal.GetDelegateForFunctionPointer<SetBroker>(NativeLibrary.GetExport(library, "rd_kafka_mock_broker_set_up"));
        var handle = (SafeHandle)typeof(Handle).GetProperty("LibrdkafkaHandle", BindingFlags.Instance | BindingFlags.NonPublic)!.GetValue(admin.Handle)!;
        _cluster = clusterOf(handle.DangerousGetHandle());
        if (_cluster == IntPtr.Zero)
        {
            throw new InvalidOperationException("The client has no mock cluster.");
        }
    }

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate IntPtr ClusterHandle(IntPtr rk);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int SetBroker(IntPtr cluster, int brokerId);

    public void Down(IEnumerable<int> brokerIds)
    {
        foreach (var id in brokerIds)
        {
            Check(_down(_cluster, id), "down", id);
        }
    }

    public void Up(IEnumerable<int> brokerIds)
    {
        foreach (var id in brokerIds)
        {
            Check(_up(_cluster, id), "up", id);
        }
    }

    private static void Check(int error, string what, int id)
    {
        if (error != 0)
        {
            throw new InvalidOperationException($"Mock broker {id} could not be set {what}: librdkafka error {error}.");
        }
    }

    /// <summary>The path of the librdkafka mapped into this process (Confluent.Kafka picks one of several bundled builds).</summary>
    private static string LoadedLibrdkafka() =>
        File.ReadLines("/proc/self/maps")
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(parts => parts.Length >= 6 && parts[^1].Contains("librdkafka", StringComparison.Ordinal))
            .Select(parts => parts[^1])
            .FirstOrDefault() ?? throw new InvalidOperationException("librdkafka is not loaded yet.");
}
