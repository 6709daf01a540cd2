package dev.telemetry.gateway.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.InstrumentationScope;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TraceIdScanTest {
  /** What the full parser says: trace ID → span count, in order of first appearance. */
  static Map<ByteString, Integer> parsed(ExportTraceServiceRequest r) {
    Map<ByteString, Integer> out = new LinkedHashMap<>();
    for (ResourceSpans rs : r.getResourceSpansList()) {
      for (ScopeSpans ss : rs.getScopeSpansList()) {
        for (Span s : ss.getSpansList()) {
          out.merge(s.getTraceId(), 1, Integer::sum);
        }
      }
    }
    return out;
  }

  @Test
  void findsWhatTheParserFindsWhateverElseTheMessagesCarry() throws Exception {
    Random r = new Random(7);
    for (int round = 0; round < 200; round++) {
      ExportTraceServiceRequest.Builder req = ExportTraceServiceRequest.newBuilder();
      for (int i = 0, n = r.nextInt(4); i < n; i++) {
        ResourceSpans.Builder rs = ResourceSpans.newBuilder().setSchemaUrl("s" + i).setResource(Resource.newBuilder()
            .addAttributes(KeyValue.newBuilder().setKey("service.name").setValue(AnyValue.newBuilder()
                .setStringValue("svc-" + r.nextInt(9)))));
        for (int j = 0, m = r.nextInt(3); j < m; j++) {
          ScopeSpans.Builder ss = ScopeSpans.newBuilder().setScope(InstrumentationScope.newBuilder().setName("x"));
          for (int k = 0, p = r.nextInt(6); k < p; k++) {
            byte[] id = new byte[16];
            id[0] = (byte) r.nextInt(5); // few distinct traces, spread over resources and scopes
            Span.Builder s = Span.newBuilder().setName("op").setStartTimeUnixNano(r.nextLong())
                .addAttributes(KeyValue.newBuilder().setKey("k").setValue(AnyValue.newBuilder().setIntValue(k)));
            if (r.nextInt(10) > 0) {
              s.setTraceId(ByteString.copyFrom(id)); // sometimes none: the empty ID, as the parser reads it
            }
            s.setSpanId(ByteString.copyFrom(new byte[] {1, 2, 3, 4, 5, 6, 7, (byte) k}));
            ss.addSpans(s);
          }
          rs.addScopeSpans(ss);
        }
        req.addResourceSpans(rs);
      }
      ExportTraceServiceRequest built = req.build();
      assertThat(TraceIdScan.spansPerTrace(built.toByteString())).containsExactlyEntriesOf(parsed(built));
      // Unknown fields (a newer sender) are skipped, as the parser skips them.
      ByteString withUnknown = built.toByteString().concat(ByteString.copyFrom(new byte[] {(byte) 0xF8, 0x01, 5}));
      assertThat(TraceIdScan.spansPerTrace(withUnknown)).containsExactlyEntriesOf(parsed(built));
    }
  }

  @Test
  void truncatedInputIsAnErrorNotAWrongAnswer() {
    ExportTraceServiceRequest one = ExportTraceServiceRequest.newBuilder().addResourceSpans(ResourceSpans.newBuilder()
        .addScopeSpans(ScopeSpans.newBuilder().addSpans(Span.newBuilder().setTraceId(ByteString.copyFrom(
            new byte[16])).setName("a-long-enough-name")))).build();
    ByteString cut = one.toByteString().substring(0, one.getSerializedSize() - 3);
    assertThatThrownBy(() -> TraceIdScan.spansPerTrace(cut)).isInstanceOf(InvalidProtocolBufferException.class);
  }
}
