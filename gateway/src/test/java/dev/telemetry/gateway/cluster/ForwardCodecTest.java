package dev.telemetry.gateway.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.telemetry.proto.cluster.ForwardBatch;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;

class ForwardCodecTest {
  @Test
  void roundTripsWithAndWithoutGzip() throws IOException {
    List<ForwardReceiver.Part> parts = List.of(
        new ForwardReceiver.Part("keep-all", null, ByteString.copyFromUtf8("x".repeat(5000)),
            ForwardReceiver.Kind.TRAFFIC, 1, 3),
        new ForwardReceiver.Part("errors", List.of("jaeger", "archive"), ByteString.copyFromUtf8("yz"),
            ForwardReceiver.Kind.HANDOFF, 1, 1),
        new ForwardReceiver.Part("errors", List.of("jaeger"), ByteString.copyFromUtf8("r"),
            ForwardReceiver.Kind.REPLICA, 1, 1));
    for (boolean gzip : new boolean[] {true, false}) {
      byte[] wire = ForwardCodec.encode("node-a", 1, parts, gzip);
      if (gzip) {
        assertThat(wire.length).isLessThan(500);
      }
      ForwardCodec.Batch batch = ForwardCodec.decode(wire);
      assertThat(batch.origin()).isEqualTo("node-a");
      assertThat(batch.hops()).isEqualTo(1);
      assertThat(batch.parts()).extracting(ForwardReceiver.Part::sampler, ForwardReceiver.Part::exporters,
          ForwardReceiver.Part::request, ForwardReceiver.Part::kind).containsExactly(
              org.assertj.core.groups.Tuple.tuple("keep-all", null, parts.get(0).request(),
                  ForwardReceiver.Kind.TRAFFIC),
              org.assertj.core.groups.Tuple.tuple("errors", List.of("jaeger", "archive"), parts.get(1).request(),
                  ForwardReceiver.Kind.HANDOFF),
              org.assertj.core.groups.Tuple.tuple("errors", List.of("jaeger"), parts.get(2).request(),
                  ForwardReceiver.Kind.REPLICA));
    }
  }

  @Test
  void aDecompressionBombIsRefused() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream z = new GZIPOutputStream(out)) {
      byte[] zeros = new byte[1 << 20];
      for (int i = 0; i < (ForwardCodec.MAX_INFLATED >> 20) + 1; i++) {
        z.write(zeros);
      }
    }
    assertThatThrownBy(() -> ForwardCodec.decode(out.toByteArray())).isInstanceOf(IOException.class)
        .hasMessageContaining("inflates beyond");
    assertThatThrownBy(() -> ForwardCodec.decode(new byte[] {8, 1, 2})).isInstanceOf(IOException.class);
    assertThat(ForwardBatch.getDefaultInstance().getPartsCount()).isZero();
  }
}
