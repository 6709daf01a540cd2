package dev.telemetry.gateway.receiver.otlp;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.zip.GZIPInputStream;

/**
 * Gzip decompression that stops as soon as the output would exceed a limit, so a decompression bomb costs at most
 * {@code limit} bytes of memory and the CPU to inflate them, however high its compression ratio.
 */
final class BoundedGzip {
  private BoundedGzip() {
  }

  /** The output would be larger than the limit. */
  static final class TooLargeException extends IOException {
    TooLargeException(long limit) {
      super("decompressed body exceeds max_decompressed_bytes (" + limit + " bytes)", null);
    }
  }

  static byte[] inflate(byte[] in, long limit) throws IOException {
    int initial = (int) Math.min(limit, Math.max(1024L, in.length * 4L));
    ByteArrayOutputStream out = new ByteArrayOutputStream(initial);
    byte[] buf = new byte[16 * 1024];
    long total = 0;
    try (GZIPInputStream gz = new GZIPInputStream(new ByteArrayInputStream(in), 8 * 1024)) {
      int n;
      while ((n = gz.read(buf)) > 0) {
        total += n;
        if (total > limit) {
          throw new TooLargeException(limit);
        }
        out.write(buf, 0, n);
      }
    }
    return out.toByteArray();
  }
}
