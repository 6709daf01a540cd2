package dev.telemetry.gateway.testing;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.logs.Logger;
import io.opentelemetry.api.logs.Severity;
import io.opentelemetry.api.metrics.Meter;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;
import io.opentelemetry.exporter.internal.otlp.logs.LogsRequestMarshaler;
import io.opentelemetry.exporter.internal.otlp.metrics.MetricsRequestMarshaler;
import io.opentelemetry.exporter.internal.otlp.traces.TraceRequestMarshaler;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.sdk.logs.SdkLoggerProvider;
import io.opentelemetry.sdk.logs.data.LogRecordData;
import io.opentelemetry.sdk.logs.export.SimpleLogRecordProcessor;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.testing.exporter.InMemoryLogRecordExporter;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Realistic telemetry made by the OpenTelemetry Java SDK, plus the exact OTLP protobuf the SDK's own marshalers
 * produce for it — the reference a test compares what reached the backend against.
 */
public final class SdkTelemetry {
  private SdkTelemetry() {
  }

  public static Resource resource(String service) {
    return Resource.getDefault().merge(Resource.create(Attributes.builder()
        .put("service.name", service)
        .put("service.namespace", "shop")
        .put("deployment.environment.name", "test")
        .build()));
  }

  /** A small trace per iteration: a server span with a client child (error, event, varied attributes). */
  public static List<SpanData> spans(String service, int traces) {
    InMemorySpanExporter memory = InMemorySpanExporter.create();
    try (SdkTracerProvider tp = SdkTracerProvider.builder().setResource(resource(service))
        .addSpanProcessor(SimpleSpanProcessor.create(memory)).build()) {
      Tracer tracer = tp.tracerBuilder("shop.checkout").setInstrumentationVersion("1.2.3").build();
      for (int i = 0; i < traces; i++) {
        Span root = tracer.spanBuilder("GET /cart/" + i).setSpanKind(SpanKind.SERVER)
            .setAttribute("http.request.method", "GET")
            .setAttribute("http.response.status_code", 200L)
            .startSpan();
        try (Scope ignored = root.makeCurrent()) {
          Span child = tracer.spanBuilder("SELECT carts").setSpanKind(SpanKind.CLIENT)
              .setAttribute("db.system.name", "postgresql")
              .setAttribute(AttributeKey.doubleKey("cart.ratio"), 0.25 * i)
              .setAttribute(AttributeKey.booleanKey("cache.hit"), i % 2 == 0)
              .setAttribute(AttributeKey.stringArrayKey("cart.tags"), List.of("a", "b" + i))
              .startSpan();
          child.addEvent("retry", Attributes.of(AttributeKey.longKey("attempt"), 2L));
          child.setStatus(StatusCode.ERROR, "deadline exceeded");
          child.end();
          tracer.spanBuilder("publish order").setSpanKind(SpanKind.PRODUCER).startSpan().end();
        }
        root.setStatus(StatusCode.OK);
        root.end();
      }
      return new ArrayList<>(memory.getFinishedSpanItems());
    }
  }

  public static Collection<MetricData> metrics(String service) {
    InMemoryMetricReader reader = InMemoryMetricReader.create();
    try (SdkMeterProvider mp = SdkMeterProvider.builder().setResource(resource(service))
        .registerMetricReader(reader).build()) {
      Meter meter = mp.meterBuilder("shop.metrics").setInstrumentationVersion("2.0").build();
      Attributes a = Attributes.of(AttributeKey.stringKey("route"), "/cart");
      meter.counterBuilder("orders.placed").setUnit("{order}").build().add(3, a);
      meter.upDownCounterBuilder("carts.open").build().add(-2, a);
      meter.histogramBuilder("http.server.request.duration").setUnit("s").build().record(0.125, a);
      meter.gaugeBuilder("queue.fill").build().set(0.75, a);
      return reader.collectAllMetrics();
    }
  }

  public static List<LogRecordData> logs(String service, int count) {
    InMemoryLogRecordExporter memory = InMemoryLogRecordExporter.create();
    try (SdkLoggerProvider lp = SdkLoggerProvider.builder().setResource(resource(service))
        .addLogRecordProcessor(SimpleLogRecordProcessor.create(memory)).build();
         SdkTracerProvider tp = SdkTracerProvider.builder()
             .addSpanProcessor(SimpleSpanProcessor.create(InMemorySpanExporter.create())).build()) {
      Logger logger = lp.loggerBuilder("shop.logs").setInstrumentationVersion("3.1").build();
      Tracer tracer = tp.get("t");
      for (int i = 0; i < count; i++) {
        Span span = tracer.spanBuilder("work").startSpan();
        try (Scope ignored = span.makeCurrent()) {
          logger.logRecordBuilder().setSeverity(i % 3 == 0 ? Severity.ERROR : Severity.INFO)
              .setSeverityText(i % 3 == 0 ? "ERROR" : "INFO")
              .setBody("order " + i + " placed")
              .setAttribute(AttributeKey.longKey("order.id"), (long) i)
              .setContext(io.opentelemetry.context.Context.current())
              .emit();
        }
        span.end();
      }
      return new ArrayList<>(memory.getFinishedLogRecordItems());
    }
  }

  public static ExportTraceServiceRequest expectedTraces(Collection<SpanData> spans) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    TraceRequestMarshaler.create(spans).writeBinaryTo(out);
    return ExportTraceServiceRequest.parseFrom(out.toByteArray());
  }

  public static ExportMetricsServiceRequest expectedMetrics(Collection<MetricData> metrics) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    MetricsRequestMarshaler.create(metrics).writeBinaryTo(out);
    return ExportMetricsServiceRequest.parseFrom(out.toByteArray());
  }

  public static ExportLogsServiceRequest expectedLogs(Collection<LogRecordData> logs) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    LogsRequestMarshaler.create(logs).writeBinaryTo(out);
    return ExportLogsServiceRequest.parseFrom(out.toByteArray());
  }
}
