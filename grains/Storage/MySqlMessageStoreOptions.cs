namespace Kefu.Grains.Storage;

/// <summary>Bound from "Kefu:MessageStore": the MariaDB/MySQL message log (deploy/mysql/002-messages.sql).</summary>
public sealed class MySqlMessageStoreOptions
{
    public const string Section = "Kefu:MessageStore";

    /// <summary>MySqlConnector connection string of the database that holds <c>kefu_message</c>.</summary>
    public string ConnectionString { get; set; } = string.Empty;

    /// <summary>Most appends one INSERT writes. Batches only grow under load; an idle store writes each append alone.</summary>
    public int MaxBatchSize { get; set; } = 256;

    /// <summary>A batch stops growing once its bodies reach this many bytes, to stay well under max_allowed_packet.</summary>
    public int MaxBatchBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Texts whose UTF-8 is longer than this are stored Brotli-compressed (when that is smaller).</summary>
    public int CompressAboveBytes { get; set; } = 1024;

    /// <summary>Brotli quality, 0 (fastest) to 11 (smallest); 5 compresses chat text well at a fraction of a ms per KiB.</summary>
    public int CompressionQuality { get; set; } = 5;

    /// <summary>
    /// Batches in flight at once, each on its own connection: while one waits for its commit, the next one fills.
    /// Per-conversation order holds for any value because a conversation grain has at most one append outstanding.
    /// </summary>
    public int Writers { get; set; } = 2;

    /// <summary>Appends waiting for a writer; when full, <see cref="MySqlMessageStore.AppendAsync"/> waits (back-pressure).</summary>
    public int QueueCapacity { get; set; } = 16_384;
}
