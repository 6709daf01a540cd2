package dev.telemetry.gateway.receiver.otlp;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

class ReceivedBytesTest {

  @Test
  void aBufferFilledToItsSizeIsReadInPlaceAnyOtherIsCopied() {
    byte[] chunk = "0123456789".repeat(200).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    // As the HTTP receiver builds a body: sized from Content-Length, then the chunks appended.
    Buffer exact = Buffer.buffer(chunk.length);
    exact.appendBytes(chunk, 0, 1000).appendBytes(chunk, 1000, chunk.length - 1000);
    byte[] inPlace = ReceivedBytes.of(exact);
    assertThat(inPlace).isEqualTo(chunk);
    assertThat(ReceivedBytes.of(exact)).as("no copy").isSameAs(inPlace);

    Buffer roomy = Buffer.buffer(chunk.length * 2).appendBytes(chunk);
    assertThat(ReceivedBytes.of(roomy)).isEqualTo(chunk).isNotSameAs(ReceivedBytes.of(roomy));

    Buffer slice = Buffer.buffer(chunk).slice(5, 25);
    assertThat(ReceivedBytes.of(slice)).hasSize(20).containsExactly(java.util.Arrays.copyOfRange(chunk, 5, 25));
  }
}
