package dev.telemetry.gateway.receiver.otlp;

import io.airlift.compress.snappy.SnappyDecompressor;
import io.airlift.compress.snappy.SnappyFramedInputStream;
import io.airlift.compress.zstd.ZstdInputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Locale;
import java.util.zip.GZIPInputStream;
import java.util.zip.Inflater;
import java.util.zip.InflaterInputStream;

/**
 * Request decompression that stops as soon as the output would exceed a limit, whatever the codec — gzip, zstd,
 * deflate (zlib, or raw), snappy (block format, whose declared length is checked before anything is allocated) and
 * x-snappy-framed — so a decompression bomb costs at most {@code limit} bytes of memory and the CPU to inflate them,
 * however high its ratio (the CVE-2024-36129 class: a small zstd body that expands to gigabytes). The receivers
 * and the cluster's forward codec decompress through it.
 */
public final class Decompression {
  /** The Content-Encoding / grpc-encoding values accepted besides identity. */
  static final List<String> ENCODINGS = List.of("gzip", "zstd", "deflate", "snappy", "x-snappy-framed");

  /** Snappy's densest element, a 3-byte copy of 64 bytes, rounded up. */
  static final int MAX_SNAPPY_RATIO = 22;

  private Decompression() {
  }

  /** The output would be larger than the limit. */
  public static final class TooLargeException extends IOException {
    TooLargeException(long limit) {
      super("decompressed body exceeds max_decompressed_bytes (" + limit + " bytes)", null);
    }
  }

  static boolean supported(String encoding) {
    return ENCODINGS.contains(encoding.toLowerCase(Locale.ROOT));
  }

  /** Decompresses {@code in} encoded as {@code encoding} (one of {@link #ENCODINGS}). */
  public static byte[] inflate(String encoding, byte[] in, long limit) throws IOException {
    switch (encoding.toLowerCase(Locale.ROOT)) {
      case "gzip" -> {
        try (InputStream s = new GZIPInputStream(new ByteArrayInputStream(in), 8 * 1024)) {
          return bounded(s, in.length, limit);
        }
      }
      case "zstd" -> {
        try (InputStream s = new ZstdInputStream(new ByteArrayInputStream(in))) {
          return bounded(s, in.length, limit);
        } catch (RuntimeException e) {
          throw new IOException("not valid zstd: " + e.getMessage(), e); // the decoder reports corruption unchecked
        }
      }
      case "deflate" -> {
        // HTTP's deflate is zlib-wrapped (RFC 9110); some clients send raw deflate: tell them apart by the header.
        boolean zlib = in.length >= 2 && (in[0] & 0x0f) == 8 && ((in[0] & 0xff) * 256 + (in[1] & 0xff)) % 31 == 0;
        Inflater inflater = new Inflater(!zlib);
        try (InputStream s = new InflaterInputStream(new ByteArrayInputStream(in), inflater, 8 * 1024)) {
          return bounded(s, in.length, limit);
        } finally {
          inflater.end();
        }
      }
      case "snappy" -> {
        long declared = varint(in);
        if (declared > limit) {
          throw new TooLargeException(limit);
        }
        // A copy element of 3 bytes yields at most 64: a length beyond that ratio is a lie, and believing it would
        // let a 6-byte body allocate max_decompressed_bytes.
        if (declared > (long) in.length * MAX_SNAPPY_RATIO) {
          throw new IOException("not valid snappy (block format): declares " + declared + " bytes from "
              + in.length);
        }
        try {
          byte[] out = new byte[(int) declared];
          int n = new SnappyDecompressor().decompress(in, 0, in.length, out, 0, out.length);
          return n == out.length ? out : java.util.Arrays.copyOf(out, n);
        } catch (RuntimeException e) {
          throw new IOException("not valid snappy (block format): " + e.getMessage(), e);
        }
      }
      case "x-snappy-framed" -> {
        try (InputStream s = new SnappyFramedInputStream(new ByteArrayInputStream(in))) {
          return bounded(s, in.length, limit);
        } catch (RuntimeException e) {
          throw new IOException("not valid framed snappy: " + e.getMessage(), e);
        }
      }
      default -> throw new IOException("unsupported encoding " + encoding);
    }
  }

  /** Snappy's block format starts with the uncompressed length as a little-endian base-128 varint. */
  private static long varint(byte[] in) throws IOException {
    long value = 0;
    for (int i = 0; i < Math.min(in.length, 5); i++) {
      value |= (long) (in[i] & 0x7f) << (7 * i);
      if ((in[i] & 0x80) == 0) {
        return value;
      }
    }
    throw new IOException("not valid snappy (block format): no length header");
  }

  private static byte[] bounded(InputStream s, int inLength, long limit) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream((int) Math.min(limit, Math.max(1024L, inLength * 4L)));
    byte[] buf = new byte[16 * 1024];
    long total = 0;
    int n;
    while ((n = s.read(buf)) > 0) {
      total += n;
      if (total > limit) {
        throw new TooLargeException(limit);
      }
      out.write(buf, 0, n);
    }
    return out.toByteArray();
  }
}
