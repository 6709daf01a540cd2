package dev.telemetry.gateway.otlp;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.telemetry.gateway.testing.Payloads;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.opentelemetry.proto.metrics.v1.Gauge;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.Span;
import org.junit.jupiter.api.Test;

class OtlpValidatorTest {

  @Test
  void validRequestsPassThroughUntouched() {
    ExportTraceServiceRequest r = Payloads.traces("ok", 5);
    OtlpValidator.Result v = OtlpValidator.validate(Signal.TRACES, r);
    assertThat(v.request()).isSameAs(r);
    assertThat(v.accepted()).isEqualTo(5);
    assertThat(v.rejected()).isZero();
  }

  @Test
  void spansWithBadIdsAreRemovedAndEmptyContainersDropped() {
    ExportTraceServiceRequest good = Payloads.traces("good", 2);
    Span zeroTrace = good.getResourceSpans(0).getScopeSpans(0).getSpans(0).toBuilder()
        .setTraceId(ByteString.copyFrom(new byte[16])).setName("zero").build();
    Span shortSpanId = zeroTrace.toBuilder().setTraceId(good.getResourceSpans(0).getScopeSpans(0).getSpans(0)
        .getTraceId()).setSpanId(ByteString.copyFrom(new byte[] {1, 2})).setName("short").build();
    ResourceSpans allBad = good.getResourceSpans(0).toBuilder().clearScopeSpans()
        .addScopeSpans(good.getResourceSpans(0).getScopeSpans(0).toBuilder().clearSpans().addSpans(zeroTrace)).build();
    ExportTraceServiceRequest req = good.toBuilder().addResourceSpans(allBad)
        .setResourceSpans(0, good.getResourceSpans(0).toBuilder().setScopeSpans(0,
            good.getResourceSpans(0).getScopeSpans(0).toBuilder().addSpans(shortSpanId))).build();

    OtlpValidator.Result v = OtlpValidator.validate(Signal.TRACES, req);
    assertThat(v.accepted()).isEqualTo(2);
    assertThat(v.rejected()).isEqualTo(2);
    assertThat(v.errorMessage()).isEqualTo("rejected 2 spans; first problem: span \"short\": span_id must be 8 bytes,"
        + " not all zero (got 2 bytes)");
    assertThat(v.request()).isEqualTo(good);
  }

  @Test
  void logsWithMalformedIdsAndNamelessMetricsAreRejected() {
    ExportLogsServiceRequest logs = ExportLogsServiceRequest.newBuilder().addResourceLogs(ResourceLogs.newBuilder()
        .addScopeLogs(ScopeLogs.newBuilder()
            .addLogRecords(LogRecord.newBuilder().setSeverityText("no ids is fine"))
            .addLogRecords(LogRecord.newBuilder().setTraceId(ByteString.copyFrom(new byte[3]))))).build();
    OtlpValidator.Result l = OtlpValidator.validate(Signal.LOGS, logs);
    assertThat(l.accepted()).isEqualTo(1);
    assertThat(l.rejected()).isEqualTo(1);
    assertThat(Signal.LOGS.itemCount(l.request())).isEqualTo(1);

    Metric named = Metric.newBuilder().setName("up").setGauge(Gauge.newBuilder()
        .addDataPoints(NumberDataPoint.newBuilder().setAsInt(1)).addDataPoints(NumberDataPoint.newBuilder())).build();
    ExportMetricsServiceRequest metrics = ExportMetricsServiceRequest.newBuilder().addResourceMetrics(
        ResourceMetrics.newBuilder().addScopeMetrics(ScopeMetrics.newBuilder()
            .addMetrics(named).addMetrics(named.toBuilder().setName("")))).build();
    OtlpValidator.Result m = OtlpValidator.validate(Signal.METRICS, metrics);
    assertThat(m.accepted()).isEqualTo(2);
    assertThat(m.rejected()).isEqualTo(2);
    assertThat(m.errorMessage()).contains("data_points").contains("name must not be empty");
    assertThat(Signal.METRICS.itemCount(m.request())).isEqualTo(2);
  }
}
