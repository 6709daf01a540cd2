package dev.telemetry.gateway.processor.enrichment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.telemetry.gateway.processor.enrichment.EnrichmentProcessorConfig;
import dev.telemetry.gateway.processor.enrichment.EnrichmentProcessorConfig.AttributeActions;
import dev.telemetry.gateway.processor.enrichment.EnrichmentProcessorConfig.Lookup;
import dev.telemetry.gateway.processor.enrichment.EnrichmentProcessorConfig.Target;
import dev.telemetry.gateway.otlp.Signal;
import dev.telemetry.gateway.testing.Await;
import dev.telemetry.gateway.testing.Payloads;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.opentelemetry.proto.metrics.v1.Gauge;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.opentelemetry.proto.resource.v1.Resource;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EnrichmentProcessorTest {
  final Vertx vertx = Vertx.vertx();
  @TempDir
  Path tmp;

  @AfterEach
  void close() {
    vertx.close().await();
  }

  static Map<String, String> attrs(List<KeyValue> kvs) {
    return kvs.stream().collect(Collectors.toMap(KeyValue::getKey, kv -> kv.getValue().getStringValue(), (a, b) -> b));
  }

  static KeyValue kv(String k, String v) {
    return KeyValue.newBuilder().setKey(k).setValue(AnyValue.newBuilder().setStringValue(v)).build();
  }

  EnrichmentProcessor start(EnrichmentProcessorConfig c) throws Exception {
    EnrichmentProcessor p = new EnrichmentProcessor(vertx, c, new SimpleMeterRegistry());
    p.start().await(10, TimeUnit.SECONDS);
    return p;
  }

  @Test
  void staticActionsOnResourceAndItemsForEverySignal() throws Exception {
    EnrichmentProcessor p = start(new EnrichmentProcessorConfig("e",
        new AttributeActions(Map.of("env", "prod", "service.name", "ignored"), Map.of("region", "eu-1"),
            List.of("secret")),
        new AttributeActions(Map.of("enriched", "yes"), Map.of(), List.of("drop.me")), false, List.of()));
    ExportTraceServiceRequest traces = Payloads.traces("svc", 2);
    traces = traces.toBuilder().setResourceSpans(0, traces.getResourceSpans(0).toBuilder()
        .setResource(traces.getResourceSpans(0).getResource().toBuilder().addAttributes(kv("secret", "x"))
            .addAttributes(kv("region", "us")))
        .setScopeSpans(0, traces.getResourceSpans(0).getScopeSpans(0).toBuilder().setSpans(0,
            traces.getResourceSpans(0).getScopeSpans(0).getSpans(0).toBuilder().addAttributes(kv("drop.me", "1")))))
        .build();
    ExportTraceServiceRequest out = (ExportTraceServiceRequest) p.process(Signal.TRACES, traces);
    assertThat(attrs(out.getResourceSpans(0).getResource().getAttributesList())).isEqualTo(Map.of(
        "service.name", "svc", "env", "prod", "region", "eu-1"));
    assertThat(out.getResourceSpans(0).getScopeSpans(0).getSpansList()).allSatisfy(s ->
        assertThat(attrs(s.getAttributesList())).isEqualTo(Map.of("enriched", "yes")));

    ExportLogsServiceRequest logs = ExportLogsServiceRequest.newBuilder().addResourceLogs(ResourceLogs.newBuilder()
        .addScopeLogs(ScopeLogs.newBuilder().addLogRecords(LogRecord.newBuilder().addAttributes(kv("k", "v")))))
        .build();
    ExportLogsServiceRequest lo = (ExportLogsServiceRequest) p.process(Signal.LOGS, logs);
    assertThat(attrs(lo.getResourceLogs(0).getScopeLogs(0).getLogRecords(0).getAttributesList()))
        .isEqualTo(Map.of("k", "v", "enriched", "yes"));
    assertThat(attrs(lo.getResourceLogs(0).getResource().getAttributesList())).containsEntry("env", "prod");

    ExportMetricsServiceRequest metrics = ExportMetricsServiceRequest.newBuilder().addResourceMetrics(
        ResourceMetrics.newBuilder().addScopeMetrics(ScopeMetrics.newBuilder().addMetrics(Metric.newBuilder()
            .setName("g").setGauge(Gauge.newBuilder().addDataPoints(NumberDataPoint.newBuilder().setAsInt(1))))))
        .build();
    ExportMetricsServiceRequest mo = (ExportMetricsServiceRequest) p.process(Signal.METRICS, metrics);
    assertThat(attrs(mo.getResourceMetrics(0).getScopeMetrics(0).getMetrics(0).getGauge().getDataPoints(0)
        .getAttributesList())).isEqualTo(Map.of("enriched", "yes"));
  }

  @Test
  void hostFactsAreAddedWhenAbsent() throws Exception {
    EnrichmentProcessor p = start(new EnrichmentProcessorConfig("e", AttributeActions.NONE, AttributeActions.NONE,
        true, List.of()));
    ExportTraceServiceRequest out = (ExportTraceServiceRequest) p.process(Signal.TRACES, Payloads.traces("svc", 1));
    Map<String, String> a = attrs(out.getResourceSpans(0).getResource().getAttributesList());
    assertThat(a).containsEntry("os.type", "linux").containsKey("host.name");
  }

  @Test
  void csvLookupTablesEnrichAndReloadWhenTheFileChanges() throws Exception {
    Path csv = tmp.resolve("teams.csv");
    Files.writeString(csv, "service.name,team,owner\nsvc,payments,\"Doe, Jane\"\nother,search,bob\n");
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    EnrichmentProcessor p = new EnrichmentProcessor(vertx, new EnrichmentProcessorConfig("e", AttributeActions.NONE,
        AttributeActions.NONE, false, List.of(new Lookup(csv, "service.name", Target.RESOURCE, false,
        Duration.ofMillis(100)))), registry);
    p.start().await(10, TimeUnit.SECONDS);
    Map<String, String> a = attrs(((ExportTraceServiceRequest) p.process(Signal.TRACES, Payloads.traces("svc", 1)))
        .getResourceSpans(0).getResource().getAttributesList());
    assertThat(a).containsEntry("team", "payments").containsEntry("owner", "Doe, Jane");

    Files.writeString(csv, "service.name,team\nsvc,checkout\n");
    Files.setLastModifiedTime(csv, FileTime.fromMillis(System.currentTimeMillis() + 5000));
    Await.until("the table reloaded", Duration.ofSeconds(10), () -> "checkout".equals(attrs(
        ((ExportTraceServiceRequest) p.process(Signal.TRACES, Payloads.traces("svc", 1))).getResourceSpans(0)
            .getResource().getAttributesList()).get("team")));

    // A broken file is not swapped in: the previous table stays.
    Files.writeString(csv, "service.name,team\nsvc,\"unterminated\n");
    Files.setLastModifiedTime(csv, FileTime.fromMillis(System.currentTimeMillis() + 10000));
    Await.until("the failed reload counted", Duration.ofSeconds(10), () -> registry.find(
        "gateway.processor.enrichment.table.reloads").tag("outcome", "failed").counters().stream()
        .mapToDouble(c -> c.count()).sum() >= 1);
    assertThat(attrs(((ExportTraceServiceRequest) p.process(Signal.TRACES, Payloads.traces("svc", 1)))
        .getResourceSpans(0).getResource().getAttributesList())).containsEntry("team", "checkout");
    p.stop();
  }

  @Test
  void jsonLookupOnItemsKeyedByAnItemAttribute() throws Exception {
    Path json = tmp.resolve("codes.json");
    Files.writeString(json, "{\"E42\": {\"error.description\": \"card declined\", \"error.retryable\": false}}");
    EnrichmentProcessor p = start(new EnrichmentProcessorConfig("e", AttributeActions.NONE, AttributeActions.NONE,
        false, List.of(new Lookup(json, "error.code", Target.ITEMS, true, Duration.ofSeconds(10)))));
    ExportLogsServiceRequest logs = ExportLogsServiceRequest.newBuilder().addResourceLogs(ResourceLogs.newBuilder()
        .setResource(Resource.newBuilder().addAttributes(kv("service.name", "pay")))
        .addScopeLogs(ScopeLogs.newBuilder().addLogRecords(LogRecord.newBuilder().addAttributes(kv("error.code", "E42")))
            .addLogRecords(LogRecord.newBuilder().addAttributes(kv("error.code", "E1"))))).build();
    ExportLogsServiceRequest out = (ExportLogsServiceRequest) p.process(Signal.LOGS, logs);
    assertThat(attrs(out.getResourceLogs(0).getScopeLogs(0).getLogRecords(0).getAttributesList()))
        .containsEntry("error.description", "card declined").containsEntry("error.retryable", "false");
    assertThat(attrs(out.getResourceLogs(0).getScopeLogs(0).getLogRecords(1).getAttributesList()))
        .isEqualTo(Map.of("error.code", "E1"));
    p.stop();
  }

  @Test
  void aBadTableAtStartupFailsWithTheFileAndTheProblem() throws Exception {
    Path csv = tmp.resolve("bad.csv");
    Files.writeString(csv, "name,team\nsvc,payments\n");
    EnrichmentProcessor p = new EnrichmentProcessor(vertx, new EnrichmentProcessorConfig("e", AttributeActions.NONE,
        AttributeActions.NONE, false, List.of(new Lookup(csv, "service.name", Target.RESOURCE, false,
        Duration.ofSeconds(10)))), new SimpleMeterRegistry());
    assertThatThrownBy(() -> p.start().await(10, TimeUnit.SECONDS))
        .hasMessageContaining("bad.csv: the header has no column \"service.name\"");
    p.stop();
  }

  @Test
  void csvParsing() throws Exception {
    assertThat(LookupTable.parseCsv("a,b\r\n\"x,1\",\"say \"\"hi\"\"\"\n", Path.of("t.csv")))
        .containsExactly(List.of("a", "b"), List.of("x,1", "say \"hi\""));
  }
}
