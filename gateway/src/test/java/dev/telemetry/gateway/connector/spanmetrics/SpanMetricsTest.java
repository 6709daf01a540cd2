package dev.telemetry.gateway.connector.spanmetrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.metrics.v1.HistogramDataPoint;
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
import java.util.Random;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class SpanMetricsTest {
  static final Resource GATEWAY = Resource.newBuilder().addAttributes(kv("service.instance.id", "gw-1")).build();

  static KeyValue kv(String k, String v) {
    return KeyValue.newBuilder().setKey(k).setValue(AnyValue.newBuilder().setStringValue(v)).build();
  }

  static Span span(String name, long durationMs, boolean error, String route) {
    Span.Builder s = Span.newBuilder().setName(name).setKind(Span.SpanKind.SPAN_KIND_SERVER)
        .setStartTimeUnixNano(1_000_000_000L).setEndTimeUnixNano(1_000_000_000L + durationMs * 1_000_000L)
        .setStatus(Status.newBuilder().setCode(error ? Status.StatusCode.STATUS_CODE_ERROR
            : Status.StatusCode.STATUS_CODE_UNSET));
    if (route != null) {
      s.addAttributes(kv("http.route", route));
    }
    return s.build();
  }

  static ExportTraceServiceRequest request(String service, List<Span> spans) {
    return ExportTraceServiceRequest.newBuilder().addResourceSpans(ResourceSpans.newBuilder()
        .setResource(Resource.newBuilder().addAttributes(kv("service.name", service)).addAttributes(
            kv("tenant", "acme"))).addScopeSpans(ScopeSpans.newBuilder().addAllSpans(spans))).build();
  }

  static Map<String, String> labels(List<KeyValue> attrs) {
    return attrs.stream().collect(Collectors.toMap(KeyValue::getKey, kv -> kv.getValue().hasBoolValue()
        ? String.valueOf(kv.getValue().getBoolValue()) : kv.getValue().getStringValue()));
  }

  static Metric metric(ExportMetricsServiceRequest r, String name) {
    return r.getResourceMetrics(0).getScopeMetrics(0).getMetricsList().stream().filter(m -> m.getName().equals(name))
        .findFirst().orElseThrow();
  }

  @Test
  void countsEveryCallAndBucketsEveryDurationPerLabelSet() {
    SpanMetrics m = new SpanMetrics(List.of("http.route", "tenant"), dev.telemetry.gateway.connector.HistogramSpec.explicit(SpanMetrics.DEFAULT_BOUNDS_MS), 1000, 0,
        GATEWAY);
    Random r = new Random(3);
    Map<List<String>, Integer> calls = new HashMap<>();
    Map<List<String>, long[]> buckets = new HashMap<>();
    for (int i = 0; i < 2000; i++) {
      String service = "svc-" + r.nextInt(3);
      String route = r.nextInt(4) == 0 ? null : "/r/" + r.nextInt(2);
      boolean error = r.nextInt(10) == 0;
      long ms = new long[] {1, 2, 3, 10, 11, 999, 1000, 20_000}[r.nextInt(8)];
      m.add(request(service, List.of(span("GET", ms, error, route))));
      List<String> key = java.util.Arrays.asList(service, error ? "STATUS_CODE_ERROR" : "STATUS_CODE_UNSET", route);
      calls.merge(key, 1, Integer::sum);
      int b = 0;
      while (b < SpanMetrics.DEFAULT_BOUNDS_MS.length && ms > SpanMetrics.DEFAULT_BOUNDS_MS[b]) {
        b++;
      }
      buckets.computeIfAbsent(key, k -> new long[SpanMetrics.DEFAULT_BOUNDS_MS.length + 1])[b]++;
    }
    ExportMetricsServiceRequest out = m.snapshot();
    assertThat(out.getResourceMetrics(0).getResource()).isEqualTo(GATEWAY);
    Metric callsMetric = metric(out, SpanMetrics.CALLS);
    assertThat(callsMetric.getSum().getIsMonotonic()).isTrue();
    assertThat(callsMetric.getSum().getDataPointsCount()).isEqualTo(calls.size());
    for (NumberDataPoint p : callsMetric.getSum().getDataPointsList()) {
      Map<String, String> l = labels(p.getAttributesList());
      assertThat(l).containsEntry("span.name", "GET").containsEntry("span.kind", "SPAN_KIND_SERVER")
          .containsEntry("tenant", "acme"); // a dimension found on the resource
      List<String> key = java.util.Arrays.asList(l.get("service.name"), l.get("status.code"), l.get("http.route"));
      assertThat(p.getAsInt()).as("calls of %s", key).isEqualTo(calls.get(key).longValue());
    }
    Metric durationMetric = metric(out, SpanMetrics.DURATION);
    assertThat(durationMetric.getUnit()).isEqualTo("ms");
    for (HistogramDataPoint p : durationMetric.getHistogram().getDataPointsList()) {
      Map<String, String> l = labels(p.getAttributesList());
      List<String> key = java.util.Arrays.asList(l.get("service.name"), l.get("status.code"), l.get("http.route"));
      assertThat(p.getBucketCountsList().stream().mapToLong(Long::longValue).toArray()).as("buckets of %s", key)
          .containsExactly(buckets.get(key));
      assertThat(p.getCount()).isEqualTo(calls.get(key).longValue());
      assertThat(p.getExplicitBoundsList()).hasSize(SpanMetrics.DEFAULT_BOUNDS_MS.length);
    }
  }

  @Test
  void beyondTheCardinalityLimitNewLabelSetsCountInTheOverflowSeries() {
    SpanMetrics m = new SpanMetrics(List.of("http.route"), dev.telemetry.gateway.connector.HistogramSpec.explicit(SpanMetrics.DEFAULT_BOUNDS_MS), 10, 0, GATEWAY);
    for (int i = 0; i < 25; i++) {
      m.add(request("svc", List.of(span("GET", 5, false, "/user/" + i), span("GET", 5, false, "/user/" + i))));
    }
    ExportMetricsServiceRequest out = m.snapshot();
    List<NumberDataPoint> points = metric(out, SpanMetrics.CALLS).getSum().getDataPointsList();
    assertThat(points).hasSize(11);
    NumberDataPoint overflow = points.stream().filter(p -> labels(p.getAttributesList())
        .containsKey("otel.metric.overflow")).findFirst().orElseThrow();
    assertThat(labels(overflow.getAttributesList())).containsExactly(Map.entry("otel.metric.overflow", "true"));
    assertThat(overflow.getAsInt()).isEqualTo(30);
    assertThat(m.overflowSpans()).isEqualTo(30);
    assertThat(points.stream().mapToLong(NumberDataPoint::getAsInt).sum()).as("nothing lost").isEqualTo(50);
  }

  @Test
  void idleSeriesAreReportedOnceMoreThenForgotten() throws Exception {
    SpanMetrics m = new SpanMetrics(List.of(), dev.telemetry.gateway.connector.HistogramSpec.explicit(SpanMetrics.DEFAULT_BOUNDS_MS), 10, 50_000_000L, GATEWAY);
    m.add(request("old", List.of(span("GET", 5, false, null))));
    Thread.sleep(80);
    m.add(request("new", List.of(span("GET", 5, false, null))));
    assertThat(metric(m.snapshot(), SpanMetrics.CALLS).getSum().getDataPointsCount()).isEqualTo(2);
    assertThat(m.expiredSeries()).isEqualTo(1);
    assertThat(m.seriesCount()).isEqualTo(1);
    assertThat(metric(m.snapshot(), SpanMetrics.CALLS).getSum().getDataPointsList()).singleElement()
        .satisfies(p -> assertThat(labels(p.getAttributesList())).containsEntry("service.name", "new"));
  }

  static Span traced(int trace, long ms) {
    byte[] id = new byte[16];
    id[15] = (byte) trace;
    id[0] = 1;
    return span("GET /cart", ms, false, "/cart").toBuilder().setTraceId(com.google.protobuf.ByteString.copyFrom(id))
        .setSpanId(com.google.protobuf.ByteString.copyFrom(new byte[] {1, 2, 3, 4, 5, 6, 7, (byte) trace})).build();
  }

  @Test
  void exemplarsPreferSpansOfTracesTheSamplerKept() {
    SpanMetrics m = new SpanMetrics(List.of("http.route"), dev.telemetry.gateway.connector.HistogramSpec.explicit(
        SpanMetrics.DEFAULT_BOUNDS_MS), 10, 0, GATEWAY);
    ExportTraceServiceRequest kept = request("shop", List.of(traced(1, 3)));
    m.add(kept);
    m.add(request("shop", List.of(traced(2, 4))));
    assertThat(exemplarTrace(m)).isEqualTo(2); // the latest span while nothing is known to be kept
    m.kept(kept.getResourceSpans(0).getResource(), kept.getResourceSpans(0).getScopeSpans(0).getSpans(0));
    assertThat(exemplarTrace(m)).isEqualTo(1);
    m.add(request("shop", List.of(traced(3, 5))));
    assertThat(exemplarTrace(m)).as("a kept trace's exemplar is not replaced by a span of an undecided one")
        .isEqualTo(1);
    HistogramDataPoint p = metric(m.snapshot(), SpanMetrics.DURATION).getHistogram().getDataPoints(0);
    assertThat(p.getExemplars(0).getSpanId().byteAt(7)).isEqualTo((byte) 1);
    assertThat(p.getExemplars(0).getAsDouble()).isEqualTo(3.0);
    // Kept spans are parsed only while some series of their service, name, kind and status lacks a kept exemplar.
    Resource shop = kept.getResourceSpans(0).getResource();
    assertThat(m.wantsKeptExemplar(shop, Span.SpanKind.SPAN_KIND_SERVER_VALUE, 0)).isFalse();
    m.add(request("shop", List.of(span("GET /other", 1, false, "/other"))));
    m.snapshot();
    assertThat(m.wantsKeptExemplar(shop, Span.SpanKind.SPAN_KIND_SERVER_VALUE, 0)).isTrue();
    assertThat(m.wantsKeptExemplar(shop, Span.SpanKind.SPAN_KIND_CLIENT_VALUE, 0)).isFalse();
    // A kept span whose series this member never counted creates nothing.
    m.kept(Resource.newBuilder().addAttributes(kv("service.name", "elsewhere")).build(), traced(9, 1));
    assertThat(m.seriesCount()).isEqualTo(2);
  }

  static int exemplarTrace(SpanMetrics m) {
    return metric(m.snapshot(), SpanMetrics.DURATION).getHistogram().getDataPoints(0).getExemplars(0).getTraceId()
        .byteAt(15);
  }

  @Test
  void exponentialHistogramsOnRequest() {
    SpanMetrics m = new SpanMetrics(List.of(), dev.telemetry.gateway.connector.HistogramSpec.exponential(160), 10, 0,
        GATEWAY);
    m.add(request("shop", List.of(span("a", 3, false, null), span("a", 300, false, null))));
    Metric d = metric(m.snapshot(), SpanMetrics.DURATION);
    assertThat(d.hasExponentialHistogram()).isTrue();
    assertThat(d.getExponentialHistogram().getDataPoints(0).getCount()).isEqualTo(2);
    assertThat(d.getExponentialHistogram().getDataPoints(0).getSum()).isEqualTo(303.0);
  }
}
