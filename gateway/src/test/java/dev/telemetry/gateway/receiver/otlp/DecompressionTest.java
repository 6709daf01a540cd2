package dev.telemetry.gateway.receiver.otlp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.telemetry.gateway.testing.Payloads;
import io.airlift.compress.snappy.SnappyCompressor;
import io.airlift.compress.snappy.SnappyFramedOutputStream;
import io.airlift.compress.zstd.ZstdOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class DecompressionTest {
  static final int BOMB = 64 * 1024 * 1024;

  /** {@code data} encoded as {@code encoding}. */
  static byte[] encode(String encoding, byte[] data) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    switch (encoding) {
      case "gzip" -> {
        return Payloads.gzip(data);
      }
      case "zstd" -> {
        try (ZstdOutputStream z = new ZstdOutputStream(out)) {
          z.write(data);
        }
      }
      case "deflate" -> {
        try (DeflaterOutputStream d = new DeflaterOutputStream(out, new Deflater(9, false))) {
          d.write(data);
        }
      }
      case "raw-deflate" -> {
        try (DeflaterOutputStream d = new DeflaterOutputStream(out, new Deflater(9, true))) {
          d.write(data);
        }
      }
      case "snappy" -> {
        SnappyCompressor c = new SnappyCompressor();
        byte[] buf = new byte[c.maxCompressedLength(data.length)];
        return Arrays.copyOf(buf, c.compress(data, 0, data.length, buf, 0, buf.length));
      }
      case "x-snappy-framed" -> {
        try (SnappyFramedOutputStream f = new SnappyFramedOutputStream(out)) {
          f.write(data);
        }
      }
      default -> throw new IllegalArgumentException(encoding);
    }
    return out.toByteArray();
  }

  static String codec(String encoding) {
    return encoding.equals("raw-deflate") ? "deflate" : encoding;
  }

  @ParameterizedTest
  @ValueSource(strings = {"gzip", "zstd", "deflate", "raw-deflate", "snappy", "x-snappy-framed"})
  void inflatesUpToTheLimitInclusive(String encoding) throws Exception {
    byte[] data = new byte[100_000];
    for (int i = 0; i < data.length; i++) {
      data[i] = (byte) (i % 251);
    }
    assertThat(Decompression.inflate(codec(encoding), encode(encoding, data), 100_000)).isEqualTo(data);
  }

  /** 64 MiB of zeros shrink to a few KiB: inflating stops at 1 MiB (snappy: refused from its declared length). */
  @ParameterizedTest
  @ValueSource(strings = {"gzip", "zstd", "deflate", "snappy", "x-snappy-framed"})
  void aBombStopsAtTheLimit(String encoding) throws Exception {
    byte[] bomb = encoding.equals("gzip") ? Payloads.gzipBomb(BOMB) : encode(encoding, new byte[BOMB]);
    assertThat(bomb.length).isLessThan(BOMB / 20);
    assertThatThrownBy(() -> Decompression.inflate(encoding, bomb, 1024 * 1024))
        .isInstanceOf(Decompression.TooLargeException.class)
        .hasMessage("decompressed body exceeds max_decompressed_bytes (1048576 bytes)");
  }

  @Test
  void concatenatedGzipMembersAreOneBody() throws Exception {
    byte[] a = Payloads.gzip("hello ".getBytes());
    byte[] b = Payloads.gzip("world".getBytes());
    byte[] both = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, both, a.length, b.length);
    assertThat(new String(Decompression.inflate("gzip", both, 1000))).isEqualTo("hello world");
  }

  @ParameterizedTest
  @ValueSource(strings = {"gzip", "zstd", "deflate", "snappy", "x-snappy-framed"})
  void garbageIsAnIoErrorNotATooLargeOne(String encoding) {
    byte[] garbage = "plain text, not compressed at all".getBytes();
    assertThatThrownBy(() -> Decompression.inflate(encoding, garbage, 1000)).isInstanceOf(IOException.class)
        .isNotInstanceOf(Decompression.TooLargeException.class);
  }

  @Test
  void knownEncodings() {
    assertThat(Decompression.supported("ZSTD")).isTrue();
    assertThat(Decompression.supported("br")).isFalse();
  }
}
