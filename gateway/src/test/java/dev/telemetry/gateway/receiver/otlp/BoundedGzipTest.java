package dev.telemetry.gateway.receiver.otlp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.telemetry.gateway.testing.Payloads;
import java.io.IOException;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class BoundedGzipTest {

  @Test
  void inflatesUpToTheLimitInclusive() throws Exception {
    byte[] data = new byte[100_000];
    Arrays.fill(data, (byte) 7);
    assertThat(BoundedGzip.inflate(Payloads.gzip(data), 100_000)).isEqualTo(data);
  }

  @Test
  void stopsAtTheLimit() throws Exception {
    byte[] bomb = Payloads.gzipBomb(64 * 1024 * 1024);
    assertThatThrownBy(() -> BoundedGzip.inflate(bomb, 1024 * 1024))
        .isInstanceOf(BoundedGzip.TooLargeException.class)
        .hasMessage("decompressed body exceeds max_decompressed_bytes (1048576 bytes)");
  }

  @Test
  void concatenatedMembersAreOneBody() throws Exception {
    byte[] a = Payloads.gzip("hello ".getBytes());
    byte[] b = Payloads.gzip("world".getBytes());
    byte[] both = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, both, a.length, b.length);
    assertThat(new String(BoundedGzip.inflate(both, 1000))).isEqualTo("hello world");
  }

  @Test
  void garbageIsAnIoError() {
    assertThatThrownBy(() -> BoundedGzip.inflate("plain".getBytes(), 1000)).isInstanceOf(IOException.class)
        .isNotInstanceOf(BoundedGzip.TooLargeException.class);
  }
}
