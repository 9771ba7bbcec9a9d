namespace Kefu.Storage.Tests;

/// <summary>Waiting for a condition seen from the test's side, instead of sleeping a fixed time.</summary>
internal static class Wait
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    public static Task UntilAsync(Func<Task<bool>> condition, string what) => UntilAsync(condition, what, Patience);

    public static async Task UntilAsync(Func<Task<bool>> condition, string what, TimeSpan patience)
    {
        var deadline = DateTime.UtcNow + patience;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out after {patience.TotalSeconds:0} s waiting until {what}.");
            await Task.Delay(20);
        }
    }
}
