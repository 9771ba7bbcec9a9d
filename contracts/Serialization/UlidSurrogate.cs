namespace Kefu.Contracts.Serialization;

/// <summary>Orleans carries <see cref="Ulid"/> as its 16 raw bytes split into two longs.</summary>
[GenerateSerializer, Immutable]
public struct UlidSurrogate
{
    [Id(0)] public long High;
    [Id(1)] public long Low;
}

[RegisterConverter]
public sealed class UlidSurrogateConverter : IConverter<Ulid, UlidSurrogate>
{
    public Ulid ConvertFromSurrogate(in UlidSurrogate surrogate)
    {
        Span<byte> bytes = stackalloc byte[16];
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(bytes, surrogate.High);
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(bytes[8..], surrogate.Low);
        return new Ulid(bytes);
    }

    public UlidSurrogate ConvertToSurrogate(in Ulid value)
    {
        Span<byte> bytes = stackalloc byte[16];
        value.TryWriteBytes(bytes);
        return new UlidSurrogate
        {
            High = System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(bytes),
            Low = System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(bytes[8..]),
        };
    }
}
