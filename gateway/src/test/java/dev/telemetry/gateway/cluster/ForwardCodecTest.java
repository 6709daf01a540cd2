package dev.telemetry.gateway.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.telemetry.gateway.config.ClusterConfig.Compression;
import dev.telemetry.proto.cluster.ForwardBatch;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;

class ForwardCodecTest {
  @Test
  void roundTripsInEveryCompression() throws IOException {
    List<ForwardReceiver.Part> parts = List.of(
        new ForwardReceiver.Part("keep-all", null, ByteString.copyFromUtf8("x".repeat(5000)),
            ForwardReceiver.Kind.TRAFFIC, 1, 3),
        new ForwardReceiver.Part("errors", List.of("jaeger", "archive"), ByteString.copyFromUtf8("yz"),
            ForwardReceiver.Kind.HANDOFF, 1, 1),
        new ForwardReceiver.Part("errors", List.of("jaeger"), ByteString.copyFromUtf8("r"),
            ForwardReceiver.Kind.REPLICA, 1, 1));
    for (Compression c : Compression.values()) {
      byte[] wire = ForwardCodec.encode("node-a", 1, parts, c);
      assertThat(wire.length).isLessThan(c == Compression.NONE ? 6000 : 500);
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

  @Test
  void aSnappyBlockDeclaringTooMuchIsRefusedBeforeAllocating() {
    // Magic, then the declared length as a varint: MAX_INFLATED + 1, and nothing after it.
    int declared = ForwardCodec.MAX_INFLATED + 1;
    byte[] bomb = {0, 'S', (byte) (declared & 0x7f | 0x80), (byte) (declared >>> 7 & 0x7f | 0x80),
        (byte) (declared >>> 14 & 0x7f | 0x80), (byte) (declared >>> 21 & 0x7f | 0x80), (byte) (declared >>> 28)};
    assertThatThrownBy(() -> ForwardCodec.decode(bomb)).isInstanceOf(IOException.class)
        .hasMessageContaining("inflates beyond");
    // Within the bound but more than a block of that size can hold: refused before 100 MiB are allocated.
    int lie = 100 << 20;
    byte[] liar = {0, 'S', (byte) (lie & 0x7f | 0x80), (byte) (lie >>> 7 & 0x7f | 0x80),
        (byte) (lie >>> 14 & 0x7f | 0x80), (byte) (lie >>> 21 & 0x7f)};
    assertThatThrownBy(() -> ForwardCodec.decode(liar)).isInstanceOf(IOException.class)
        .hasMessageContaining("declares " + lie + " bytes");
    byte[] wire = ForwardCodec.encode("node-a", 0, List.of(new ForwardReceiver.Part("s", null,
        ByteString.copyFromUtf8("span ".repeat(100)), ForwardReceiver.Kind.TRAFFIC, 0, 1)), Compression.SNAPPY);
    assertThatThrownBy(() -> ForwardCodec.decode(java.util.Arrays.copyOf(wire, wire.length - 4)))
        .isInstanceOf(IOException.class).hasMessageContaining("snappy");
  }

  @Test
  void snappyGoesOnlyToMembersThatSayTheyReadIt() {
    JsonObject reads = new JsonObject().put(EventBusTransport.SNAPPY_KEY, true);
    assertThat(EventBusTransport.compressionFor(Compression.SNAPPY, reads)).isEqualTo(Compression.SNAPPY);
    assertThat(EventBusTransport.compressionFor(Compression.SNAPPY, new JsonObject())).isEqualTo(Compression.GZIP);
    assertThat(EventBusTransport.compressionFor(Compression.SNAPPY, null)).isEqualTo(Compression.GZIP);
    assertThat(EventBusTransport.compressionFor(Compression.NONE, new JsonObject())).isEqualTo(Compression.NONE);
    assertThat(EventBusTransport.compressionFor(Compression.GZIP, reads)).isEqualTo(Compression.GZIP);
  }
}
