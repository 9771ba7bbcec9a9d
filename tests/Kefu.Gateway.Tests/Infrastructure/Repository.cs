namespace Kefu.Gateway.Tests.Infrastructure;

/// <summary>The repository the tests run from (the directory holding Orleans.sln above the test binaries).</summary>
public static class Repository
{
    public static string Root { get; } = Find();

    private static string Find()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Orleans.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("No Orleans.sln above " + AppContext.BaseDirectory);
    }
}
