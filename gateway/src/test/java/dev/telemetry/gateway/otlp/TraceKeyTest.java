package dev.telemetry.gateway.otlp;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TraceKeyTest {
  /** IDs with a constant prefix and a counter in the last four bytes, as the side-by-side workload sends them. */
  static ByteString sequential(int n) {
    return ByteString.copyFrom(ByteBuffer.allocate(16).putLong(0x1234abcd5678ef01L).putInt(0x77726b30).putInt(n)
        .flip());
  }

  @Test
  void sequentialIdsSpreadOverBucketsWhereByteStringHashesCollide() {
    int n = 100_000;
    Set<Integer> byteStringHashes = new HashSet<>();
    Set<Integer> keyBuckets = new HashSet<>();
    for (int i = 0; i < n; i++) {
      ByteString id = sequential(i);
      byteStringHashes.add(id.hashCode());
      int h = TraceKey.of(id).hashCode();
      keyBuckets.add((h ^ h >>> 16) & ((1 << 17) - 1)); // the bucket a HashMap of 2^17 slots would use
    }
    assertThat(byteStringHashes.size()).as("why the key exists").isLessThan(n / 10);
    assertThat(keyBuckets.size()).isGreaterThan((int) (n * 0.6)); // ~ 1 - 1/e of 2^17 slots for random hashes
  }

  @Test
  void equalIdsAreEqualKeys() {
    assertThat(TraceKey.of(sequential(7))).isEqualTo(TraceKey.of(sequential(7)))
        .hasSameHashCodeAs(TraceKey.of(sequential(7)));
    assertThat(TraceKey.of(sequential(7))).isNotEqualTo(TraceKey.of(sequential(8)));
  }
}
