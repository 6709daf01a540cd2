package dev.telemetry.gateway.console;

import static org.assertj.core.api.Assertions.assertThat;

import dev.telemetry.gateway.otlp.Signal;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class SampleBookTest {
  final AtomicLong now = new AtomicLong(1_700_000_000_000L);
  final Clock clock = new Clock() {
    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(now.get());
    }
  };

  static ExportTraceServiceRequest traces(String name) {
    return ExportTraceServiceRequest.newBuilder().addResourceSpans(ResourceSpans.newBuilder().addScopeSpans(
        ScopeSpans.newBuilder().addSpans(Span.newBuilder().setName(name)))).build();
  }

  @Test
  void keepsAtMostOnePerIntervalAndTheNewestPerSignal() {
    SampleBook book = new SampleBook(2, 1 << 16, 1000, clock);
    book.offer(Signal.TRACES, "otlp", null, traces("a"), 1, 10);
    book.offer(Signal.TRACES, "otlp", null, traces("too-soon"), 1, 10);
    now.addAndGet(1000);
    book.offer(Signal.TRACES, "otlp", "acme", traces("b"), 1, 10);
    now.addAndGet(1000);
    book.offer(Signal.TRACES, "otlp", null, traces("c"), 1, 10);
    book.offer(Signal.LOGS, "otlp", null, ExportLogsServiceRequest.getDefaultInstance(), 0, 0);

    assertThat(book.samples()).extracting(s -> s.signal() + ":" + (s.request() instanceof ExportTraceServiceRequest t
        ? t.getResourceSpans(0).getScopeSpans(0).getSpans(0).getName() : "logs"))
        .containsExactly("TRACES:c", "LOGS:logs", "TRACES:b");
    JsonObject view = book.view();
    JsonObject b = view.getJsonArray("samples").getJsonObject(2);
    assertThat(b.getString("tenant")).isEqualTo("acme");
    assertThat(b.getString("received_at")).isEqualTo("2023-11-14T22:13:21Z");
    assertThat(b.getJsonObject("payload").getJsonArray("resourceSpans").getJsonObject(0)
        .getJsonArray("scopeSpans").getJsonObject(0).getJsonArray("spans").getJsonObject(0).getString("name"))
        .isEqualTo("b");
  }

  @Test
  void skipsRequestsOverTheSizeLimitWithoutUsingTheInterval() {
    SampleBook book = new SampleBook(4, 100, 1000, clock);
    book.offer(Signal.TRACES, "otlp", null, traces("big"), 1, 101);
    book.offer(Signal.TRACES, "otlp", null, traces("small"), 1, 50);
    // The size is measured when the receiver does not know it.
    book.offer(Signal.METRICS, "otlp", null, io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest
        .getDefaultInstance(), 0, -1);
    assertThat(book.samples()).hasSize(2);
    assertThat(book.samples()).anySatisfy(s -> assertThat(s.bytes()).isZero());
  }
}
