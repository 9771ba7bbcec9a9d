using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace Kefu.Grains.Attachments;

/// <summary>
/// Attachment bytes as objects in an S3-compatible bucket (AWS S3, MinIO, Ceph, …), one object per attachment, its key
/// the attachment id under <see cref="S3AttachmentOptions.Prefix"/>. Only PUT, GET and DELETE of an object are used, so
/// any store that implements those works; the metadata stays in MySQL (<see cref="MySqlAttachmentStore"/>).
/// </summary>
public sealed class S3AttachmentBytes : IAttachmentBytes, IDisposable
{
    private readonly IAmazonS3 _s3;
    private readonly string _bucket;
    private readonly string _prefix;

    public S3AttachmentBytes(S3AttachmentOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.Bucket))
        {
            throw new InvalidOperationException($"{AttachmentOptions.Section}:S3:Bucket is required when {AttachmentOptions.Section}:Store is s3.");
        }

        var config = new AmazonS3Config
        {
            ForcePathStyle = options.ForcePathStyle,

            // Plain PUTs with a signed payload: the flexible-checksum trailers and aws-chunked bodies newer SDKs send by
            // default are not implemented by every S3-compatible store.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (!string.IsNullOrWhiteSpace(options.ServiceUrl))
        {
            config.ServiceURL = options.ServiceUrl;
            config.AuthenticationRegion = options.Region;
        }
        else
        {
            config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(options.Region);
        }

        // Credentials from configuration, else the SDK's default chain (environment, instance profile, …); never logged.
        _s3 = !string.IsNullOrEmpty(options.AccessKey) && !string.IsNullOrEmpty(options.SecretKey)
            ? new AmazonS3Client(new BasicAWSCredentials(options.AccessKey, options.SecretKey), config)
            : new AmazonS3Client(config);
        _bucket = options.Bucket;
        _prefix = options.Prefix ?? string.Empty;
    }

    public byte Storage => 1;

    public async Task WriteAsync(string attachmentId, Stream content, CancellationToken cancellationToken)
    {
        // The SDK signs the payload's hash, which needs a stream it can read twice; uploads are bounded by
        // Kefu:Attachments:MaxBytes, so a non-seekable one is buffered.
        Stream body = content;
        MemoryStream? buffered = null;
        if (!content.CanSeek)
        {
            buffered = new MemoryStream();
            await content.CopyToAsync(buffered, cancellationToken);
            buffered.Position = 0;
            body = buffered;
        }

        try
        {
            await _s3.PutObjectAsync(new PutObjectRequest
            {
                BucketName = _bucket,
                Key = _prefix + attachmentId,
                InputStream = body,
                AutoCloseStream = false,
                UseChunkEncoding = false,
                ContentType = "application/octet-stream",
            }, cancellationToken);
        }
        finally
        {
            buffered?.Dispose();
        }
    }

    public async Task<Stream?> OpenReadAsync(string attachmentId, CancellationToken cancellationToken)
    {
        try
        {
            var response = await _s3.GetObjectAsync(_bucket, _prefix + attachmentId, cancellationToken);
            return response.ResponseStream;
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public async Task DeleteAsync(string attachmentId, CancellationToken cancellationToken)
    {
        try
        {
            await _s3.DeleteObjectAsync(_bucket, _prefix + attachmentId, cancellationToken);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            // Already gone: S3 itself answers 204 here, some compatible stores 404.
        }
    }

    public void Dispose() => _s3.Dispose();
}

/// <summary><c>Kefu:Attachments:S3:*</c>: the bucket of <c>Kefu:Attachments:Store = s3</c>. Secrets here are never logged.</summary>
public sealed class S3AttachmentOptions
{
    /// <summary>The endpoint of an S3-compatible store (e.g. <c>http://minio:9000</c>); empty for AWS S3 in <see cref="Region"/>.</summary>
    public string? ServiceUrl { get; set; }

    public string? Bucket { get; set; }

    /// <summary>The signing region (AWS: the bucket's region; MinIO: its configured region, default <c>us-east-1</c>).</summary>
    public string Region { get; set; } = "us-east-1";

    /// <summary>Access key id; empty: the SDK's default credential chain (environment, instance profile, …).</summary>
    public string? AccessKey { get; set; }

    public string? SecretKey { get; set; }

    /// <summary>Path-style addressing (<c>endpoint/bucket/key</c>) instead of virtual hosts (<c>bucket.endpoint/key</c>); MinIO needs it.</summary>
    public bool ForcePathStyle { get; set; }

    /// <summary>Prepended to every object key (e.g. <c>attachments/</c>), to share a bucket.</summary>
    public string? Prefix { get; set; }
}
