package dev.telemetry.gateway.receiver.otlp;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;

/**
 * Every request decompressor against arbitrary bytes: it either returns at most the bound or throws an
 * IOException (malformed or too large) — never another exception, never more memory than the bound.
 */
class DecompressionFuzzTest {
  static final long LIMIT = 256 * 1024;

  @FuzzTest(maxDuration = "5m")
  void inflate(FuzzedDataProvider data) {
    String encoding = data.pickValue(Decompression.ENCODINGS);
    byte[] body = data.consumeRemainingAsBytes();
    try {
      byte[] out = Decompression.inflate(encoding, body, LIMIT);
      assertThat((long) out.length).isLessThanOrEqualTo(LIMIT);
    } catch (IOException expected) {
      // malformed or beyond the bound: the receivers answer 400 or 413
    }
  }
}
