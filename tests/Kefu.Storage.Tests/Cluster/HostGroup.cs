namespace Kefu.Storage.Tests.Cluster;

/// <summary>
/// Every silo and client a test starts, disposed (stopped) in reverse start order at the end of the test, also when
/// a start or an assertion fails half-way.
/// </summary>
public sealed class HostGroup : IAsyncDisposable
{
    private readonly List<IAsyncDisposable> _hosts = [];
    private readonly Lock _lock = new();

    public async Task<T> Add<T>(Task<T> starting)
        where T : IAsyncDisposable
    {
        var host = await starting;
        lock (_lock)
        {
            _hosts.Add(host);
        }

        return host;
    }

    public async ValueTask DisposeAsync()
    {
        List<IAsyncDisposable> hosts;
        lock (_lock)
        {
            hosts = [.. _hosts];
            _hosts.Clear();
        }

        hosts.Reverse();
        var errors = new List<Exception>();
        foreach (var host in hosts)
        {
            try
            {
                await host.DisposeAsync();
            }
            catch (Exception e)
            {
                errors.Add(e);
            }
        }

        if (errors.Count > 0)
        {
            throw new AggregateException("Stopping test hosts failed.", errors);
        }
    }
}
