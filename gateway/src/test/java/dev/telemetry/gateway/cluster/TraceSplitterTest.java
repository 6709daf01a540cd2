package dev.telemetry.gateway.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.InstrumentationScope;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TraceSplitterTest {
  final HashRing ring = new HashRing(List.of("a", "b", "c"), 64);

  static Span span(long trace, long span) {
    return Span.newBuilder().setTraceId(ByteString.copyFrom(ByteBuffer.allocate(16).putLong(trace * 31)
        .putLong(trace).array())).setSpanId(ByteString.copyFrom(ByteBuffer.allocate(8).putLong(span).array()))
        .build();
  }

  static ExportTraceServiceRequest request(List<Span> first, List<Span> second) {
    return ExportTraceServiceRequest.newBuilder()
        .addResourceSpans(ResourceSpans.newBuilder().setResource(Resource.newBuilder().setDroppedAttributesCount(1))
            .setSchemaUrl("r1").addScopeSpans(ScopeSpans.newBuilder().setScope(InstrumentationScope.newBuilder()
                .setName("s1")).addAllSpans(first)))
        .addResourceSpans(ResourceSpans.newBuilder().setResource(Resource.newBuilder().setDroppedAttributesCount(2))
            .addScopeSpans(ScopeSpans.newBuilder().setScope(InstrumentationScope.newBuilder().setName("s2"))
                .addAllSpans(second)))
        .build();
  }

  @Test
  void everySpanGoesToItsOwnerWithItsResourceAndScope() {
    List<Span> first = new ArrayList<>();
    List<Span> second = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      first.add(span(i, i));
      second.add(span(i, 100 + i));
    }
    ExportTraceServiceRequest request = request(first, second);
    Map<String, ExportTraceServiceRequest> parts = TraceSplitter.split(request, ring);
    assertThat(parts).hasSize(3);
    int total = 0;
    for (Map.Entry<String, ExportTraceServiceRequest> e : parts.entrySet()) {
      for (ResourceSpans rs : e.getValue().getResourceSpansList()) {
        for (ScopeSpans ss : rs.getScopeSpansList()) {
          String scope = ss.getScope().getName();
          assertThat(scope).isEqualTo(rs.getResource().getDroppedAttributesCount() == 1 ? "s1" : "s2");
          for (Span s : ss.getSpansList()) {
            assertThat(ring.owner(s.getTraceId())).isEqualTo(e.getKey());
            total++;
          }
        }
      }
    }
    assertThat(total).isEqualTo(120);
  }

  @Test
  void aRequestForOneOwnerIsNotCopied() {
    Span s = span(7, 1);
    ExportTraceServiceRequest request = request(List.of(s), List.of(s.toBuilder().setName("again").build()));
    Map<String, ExportTraceServiceRequest> parts = TraceSplitter.split(request, ring);
    assertThat(parts).containsOnlyKeys(ring.owner(s.getTraceId()));
    assertThat(parts.values().iterator().next()).isSameAs(request);
    assertThat(TraceSplitter.split(ExportTraceServiceRequest.getDefaultInstance(), ring)).isEmpty();
  }

  @Test
  void replicasGoToEachTracesSuccessorsWithResourceAndScope() {
    List<Span> first = new ArrayList<>();
    List<Span> second = new ArrayList<>();
    for (long t = 0; t < 40; t++) {
      first.add(span(t, t * 10));
      second.add(span(t, t * 10 + 1));
    }
    ExportTraceServiceRequest request = request(first, second);
    Map<String, ExportTraceServiceRequest> replicas = TraceSplitter.replicas(request, ring, 2);
    int copies = 0;
    for (Map.Entry<String, ExportTraceServiceRequest> e : replicas.entrySet()) {
      for (ResourceSpans rs : e.getValue().getResourceSpansList()) {
        for (ScopeSpans ss : rs.getScopeSpansList()) {
          // the scope still belongs to its resource
          assertThat(ss.getScope().getName()).isEqualTo(rs.getSchemaUrl().equals("r1") ? "s1" : "s2");
          for (Span s : ss.getSpansList()) {
            assertThat(ring.successors(s.getTraceId(), 2)).contains(e.getKey());
            assertThat(ring.owner(s.getTraceId())).isNotEqualTo(e.getKey());
            copies++;
          }
        }
      }
    }
    assertThat(copies).as("every span on both successors").isEqualTo(80 * 2);
    assertThat(TraceSplitter.replicas(request, ring, 0)).isEmpty();
    assertThat(TraceSplitter.replicas(request, new HashRing(List.of("a"), 64), 1)).isEmpty();
    // One trace: the request itself, for each successor.
    ExportTraceServiceRequest one = request(List.of(span(7, 1), span(7, 2)), List.of(span(7, 3)));
    Map<String, ExportTraceServiceRequest> same = TraceSplitter.replicas(one, ring, 1);
    assertThat(same).hasSize(1);
    assertThat(same.values().iterator().next()).isSameAs(one);
  }
}
