package dev.telemetry.gateway.connector.servicegraph;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.telemetry.gateway.connector.HistogramSpec;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.proto.trace.v1.Status;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class ServiceGraphTest {
  static KeyValue kv(String k, String v) {
    return KeyValue.newBuilder().setKey(k).setValue(AnyValue.newBuilder().setStringValue(v)).build();
  }

  static ByteString id(int n, int len) {
    byte[] b = new byte[len];
    b[len - 1] = (byte) n;
    b[len - 2] = (byte) (n >> 8);
    b[0] = 1;
    return ByteString.copyFrom(b);
  }

  static Span span(int trace, int spanId, int parent, Span.SpanKind kind, long ms, boolean error, KeyValue... attrs) {
    Span.Builder s = Span.newBuilder().setTraceId(id(trace, 16)).setSpanId(id(spanId, 8)).setKind(kind)
        .setName("op").setStartTimeUnixNano(1_000_000_000L).setEndTimeUnixNano(1_000_000_000L + ms * 1_000_000L)
        .setStatus(Status.newBuilder().setCode(error ? Status.StatusCode.STATUS_CODE_ERROR
            : Status.StatusCode.STATUS_CODE_OK)).addAllAttributes(List.of(attrs));
    if (parent != 0) {
      s.setParentSpanId(id(parent, 8));
    }
    return s.build();
  }

  static ExportTraceServiceRequest from(String service, Span... spans) {
    return ExportTraceServiceRequest.newBuilder().addResourceSpans(ResourceSpans.newBuilder()
        .setResource(Resource.newBuilder().addAttributes(kv("service.name", service)).addAttributes(kv("env", "prod")))
        .addScopeSpans(ScopeSpans.newBuilder().addAllSpans(List.of(spans)))).build();
  }

  static ServiceGraph graph(long waitNanos, int maxPending) {
    return new ServiceGraph(List.of("env"), ServiceGraph.DEFAULT_PEER_ATTRIBUTES, waitNanos, maxPending,
        HistogramSpec.explicit(ServiceGraph.DEFAULT_BOUNDS_S), 100, 0, Resource.getDefaultInstance());
  }

  /** Counter values by "client->server (type)". */
  static Map<String, Long> counter(ExportMetricsServiceRequest r, String name) {
    Map<String, Long> out = new TreeMap<>();
    for (Metric m : r.getResourceMetrics(0).getScopeMetrics(0).getMetricsList()) {
      if (m.getName().equals(name)) {
        for (NumberDataPoint p : m.getSum().getDataPointsList()) {
          Map<String, String> l = new HashMap<>();
          p.getAttributesList().forEach(a -> l.put(a.getKey(), a.getValue().getStringValue()));
          out.put(l.get("client") + "->" + l.get("server") + " (" + l.getOrDefault("connection_type", "") + ")",
              p.getAsInt());
        }
      }
    }
    return out;
  }

  @Test
  void pairsClientAndServerSpansInEitherOrderAndCountsFailures() {
    ServiceGraph g = graph(60_000_000_000L, 1000);
    for (int t = 1; t <= 10; t++) {
      Span client = span(t, 2, 1, Span.SpanKind.SPAN_KIND_CLIENT, 30, false);
      Span server = span(t, 3, 2, Span.SpanKind.SPAN_KIND_SERVER, 20, t % 5 == 0);
      if (t % 2 == 0) {
        g.add(from("frontend", client));
        g.add(from("checkout", server));
      } else {
        g.add(from("checkout", server));
        g.add(from("frontend", client));
      }
    }
    assertThat(g.pending()).isZero();
    ExportMetricsServiceRequest r = g.snapshot();
    assertThat(counter(r, ServiceGraph.REQUESTS)).containsExactly(Map.entry("frontend->checkout ()", 10L));
    assertThat(counter(r, ServiceGraph.FAILED)).containsExactly(Map.entry("frontend->checkout ()", 2L));
    Metric server = r.getResourceMetrics(0).getScopeMetrics(0).getMetricsList().stream()
        .filter(m -> m.getName().equals(ServiceGraph.SERVER_SECONDS)).findFirst().orElseThrow();
    assertThat(server.getHistogram().getDataPoints(0).getSum()).isCloseTo(0.2, org.assertj.core.data.Offset.offset(1e-9));
    assertThat(server.getHistogram().getDataPoints(0).getAttributesList()).contains(kv("client_env", "prod"),
        kv("server_env", "prod"));
  }

  @Test
  void virtualNodesForDatabasesPeersAndUsersAndUnpairedSpansCounted() throws Exception {
    ServiceGraph g = graph(1, 1000); // everything expires at the next sweep
    g.add(from("checkout",
        span(1, 2, 1, Span.SpanKind.SPAN_KIND_CLIENT, 5, false, kv("db.system.name", "postgresql"),
            kv("db.namespace", "orders")),
        span(2, 2, 1, Span.SpanKind.SPAN_KIND_CLIENT, 5, true, kv("peer.service", "payments-legacy")),
        span(3, 2, 1, Span.SpanKind.SPAN_KIND_PRODUCER, 5, false, kv("messaging.system", "kafka"),
            kv("messaging.destination.name", "orders")),
        span(4, 2, 1, Span.SpanKind.SPAN_KIND_CLIENT, 5, false), // nothing names its peer
        span(5, 7, 0, Span.SpanKind.SPAN_KIND_SERVER, 5, false), // a root: called by a user
        span(6, 8, 9, Span.SpanKind.SPAN_KIND_SERVER, 5, false), // its client never comes
        span(7, 8, 9, Span.SpanKind.SPAN_KIND_INTERNAL, 5, false))); // not an edge
    Thread.sleep(2);
    g.expire();
    ExportMetricsServiceRequest r = g.snapshot();
    assertThat(counter(r, ServiceGraph.REQUESTS)).containsExactly(
        Map.entry("checkout->orders (database)", 1L),
        Map.entry("checkout->orders (messaging_system)", 1L),
        Map.entry("checkout->payments-legacy (virtual_node)", 1L),
        Map.entry("user->checkout (virtual_node)", 1L));
    assertThat(counter(r, ServiceGraph.FAILED).get("checkout->payments-legacy (virtual_node)")).isEqualTo(1);
    assertThat(g.unpairedClientSpans()).isEqualTo(1);
    assertThat(g.unpairedServerSpans()).isEqualTo(1);
    assertThat(g.pending()).isZero();
  }

  @Test
  void producerAndConsumerMakeAMessagingEdgeAndTheStoreIsBounded() {
    ServiceGraph g = graph(60_000_000_000L, 3);
    g.add(from("orders", span(1, 2, 1, Span.SpanKind.SPAN_KIND_PRODUCER, 1, false)));
    g.add(from("billing", span(1, 3, 2, Span.SpanKind.SPAN_KIND_CONSUMER, 1, false)));
    for (int t = 10; t < 15; t++) {
      g.add(from("a", span(t, 2, 1, Span.SpanKind.SPAN_KIND_CLIENT, 1, false)));
    }
    assertThat(g.pending()).isEqualTo(3);
    assertThat(g.droppedSpans()).isEqualTo(2);
    assertThat(counter(g.snapshot(), ServiceGraph.REQUESTS)).containsExactly(
        Map.entry("orders->billing (messaging_system)", 1L));
  }

  @Test
  void edgesBeyondTheCardinalityLimitShareTheOverflowSeries() {
    ServiceGraph g = new ServiceGraph(List.of(), List.of(), 60_000_000_000L, 1000,
        HistogramSpec.exponential(160), 2, 0, Resource.getDefaultInstance());
    for (int t = 1; t <= 5; t++) {
      g.add(from("c" + t, span(t, 2, 1, Span.SpanKind.SPAN_KIND_CLIENT, 1, false)));
      g.add(from("s", span(t, 3, 2, Span.SpanKind.SPAN_KIND_SERVER, 1, false)));
    }
    assertThat(g.edgeCount()).isEqualTo(2);
    assertThat(g.overflowRequests()).isEqualTo(3);
    Metric requests = g.snapshot().getResourceMetrics(0).getScopeMetrics(0).getMetrics(0);
    assertThat(requests.getSum().getDataPointsList()).anyMatch(p -> p.getAttributesList().stream()
        .anyMatch(a -> a.getKey().equals("otel.metric.overflow")) && p.getAsInt() == 3);
  }
}
