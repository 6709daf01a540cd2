package dev.telemetry.gateway.processor.redaction;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.telemetry.gateway.processor.redaction.RedactionProcessorConfig;
import dev.telemetry.gateway.processor.redaction.RedactionProcessorConfig.Action;
import dev.telemetry.gateway.processor.redaction.RedactionProcessorConfig.Rule;
import dev.telemetry.gateway.otlp.Signal;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.common.v1.KeyValueList;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.opentelemetry.proto.metrics.v1.Gauge;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class RedactionProcessorTest {
  static final String KEY = "0123456789abcdef-secret";
  final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  static KeyValue kv(String k, String v) {
    return KeyValue.newBuilder().setKey(k).setValue(AnyValue.newBuilder().setStringValue(v)).build();
  }

  static Map<String, String> strings(List<KeyValue> kvs) {
    return kvs.stream().collect(Collectors.toMap(KeyValue::getKey, kv -> kv.getValue().hasStringValue()
        ? kv.getValue().getStringValue() : kv.getValue().toString().trim()));
  }

  static Rule rule(String name, String detector, Action action) {
    return new Rule(name, detector, null, action, Set.of(), Set.of());
  }

  RedactionProcessor processor(List<String> allowed, List<String> blocked, Action blockedAction, boolean summary,
                               Rule... rules) {
    return new RedactionProcessor(new RedactionProcessorConfig("r", allowed, blocked, blockedAction, KEY,
        List.of(rules), summary), registry);
  }

  static ExportTraceServiceRequest trace(String service, Span span) {
    return ExportTraceServiceRequest.newBuilder().addResourceSpans(ResourceSpans.newBuilder()
        .setResource(Resource.newBuilder().addAttributes(kv("service.name", service))
            .addAttributes(kv("owner.email", "ops@example.com")))
        .addScopeSpans(ScopeSpans.newBuilder().addSpans(span))).build();
  }

  double count(String rule) {
    return registry.find("gateway.processor.redaction.redactions").tag("rule", rule).counter().count();
  }

  @Test
  void masksHashesAndDropsEverywhereInATrace() {
    RedactionProcessor p = processor(List.of(), List.of(), Action.MASK, true,
        rule("emails", "email", Action.MASK), rule("cards", "credit_card", Action.HASH),
        rule("jwts", "jwt", Action.DROP));
    Span span = Span.newBuilder().setName("charge card 4111111111111111")
        .addAttributes(kv("user", "jane@example.com")).addAttributes(kv("order.id", "4111111111111112"))
        .addAttributes(kv("auth", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig"))
        .addAttributes(kv("db.query.text", "SELECT * FROM users WHERE email = 'bob@example.org'"))
        .addEvents(Span.Event.newBuilder().setName("e").addAttributes(kv("to", "x@example.net")))
        .addLinks(Span.Link.newBuilder().addAttributes(kv("from", "y@example.net"))).build();
    ExportTraceServiceRequest out = (ExportTraceServiceRequest) p.process(Signal.TRACES, trace("api", span));
    Span s = out.getResourceSpans(0).getScopeSpans(0).getSpans(0);
    String hashed = p.hash("4111111111111111");
    assertThat(hashed).matches("hmac:[0-9a-f]{16}");
    assertThat(s.getName()).isEqualTo("charge card " + hashed);
    Map<String, String> a = strings(s.getAttributesList());
    assertThat(a).containsEntry("user", "****").containsEntry("order.id", "4111111111111112")
        .containsEntry("db.query.text", "SELECT * FROM users WHERE email = '****'")
        .doesNotContainKey("auth")
        // name, user, db.query.text, auth, plus the span's event and link: the summary covers the whole span
        .containsEntry("redaction.count", "int_value: 6");
    assertThat(strings(s.getEvents(0).getAttributesList())).containsEntry("to", "****");
    assertThat(strings(s.getLinks(0).getAttributesList())).containsEntry("from", "****");
    assertThat(strings(out.getResourceSpans(0).getResource().getAttributesList()))
        .containsEntry("owner.email", "****").containsEntry("service.name", "api");
    assertThat(count("emails")).isEqualTo(5);
    assertThat(count("cards")).isEqualTo(1);
    assertThat(count("jwts")).isEqualTo(1);
    // Hashing is deterministic under one key: the same card hashes alike, so correlation survives.
    assertThat(p.hash("4111111111111111")).isEqualTo(hashed);
  }

  @Test
  void logBodiesStringAndStructuredAndMetricAttributes() {
    RedactionProcessor p = processor(List.of(), List.of(), Action.MASK, false, rule("ips", "ipv4", Action.MASK),
        new Rule("customer", null, "CUST-[0-9]{6}", Action.MASK, Set.of(), Set.of()));
    ExportLogsServiceRequest logs = ExportLogsServiceRequest.newBuilder().addResourceLogs(ResourceLogs.newBuilder()
        .addScopeLogs(ScopeLogs.newBuilder()
            .addLogRecords(LogRecord.newBuilder().setBody(AnyValue.newBuilder().setStringValue(
                "login CUST-123456 from 10.1.2.3")))
            .addLogRecords(LogRecord.newBuilder().setBody(AnyValue.newBuilder().setKvlistValue(KeyValueList
                .newBuilder().addValues(kv("client", "10.9.8.7")).addValues(kv("note", "fine"))))))).build();
    ExportLogsServiceRequest out = (ExportLogsServiceRequest) p.process(Signal.LOGS, logs);
    assertThat(out.getResourceLogs(0).getScopeLogs(0).getLogRecords(0).getBody().getStringValue())
        .isEqualTo("login **** from ****");
    assertThat(strings(out.getResourceLogs(0).getScopeLogs(0).getLogRecords(1).getBody().getKvlistValue()
        .getValuesList())).isEqualTo(Map.of("client", "****", "note", "fine"));

    ExportMetricsServiceRequest metrics = ExportMetricsServiceRequest.newBuilder().addResourceMetrics(
        ResourceMetrics.newBuilder().addScopeMetrics(ScopeMetrics.newBuilder().addMetrics(Metric.newBuilder()
            .setName("g").setGauge(Gauge.newBuilder().addDataPoints(NumberDataPoint.newBuilder()
                .addAttributes(kv("peer", "172.16.0.1"))))))).build();
    ExportMetricsServiceRequest mo = (ExportMetricsServiceRequest) p.process(Signal.METRICS, metrics);
    assertThat(strings(mo.getResourceMetrics(0).getScopeMetrics(0).getMetrics(0).getGauge().getDataPoints(0)
        .getAttributesList())).containsEntry("peer", "****");
  }

  @Test
  void allowListAndBlockedKeys() {
    RedactionProcessor p = processor(List.of("http.method", "password", "api.token"), List.of("password", ".*token.*"),
        Action.HASH, false);
    Span span = Span.newBuilder().setName("s").addAttributes(kv("http.method", "GET"))
        .addAttributes(kv("password", "hunter2")).addAttributes(kv("API.Token", "t0k"))
        .addAttributes(kv("user.name", "jane")).build();
    Span s = ((ExportTraceServiceRequest) p.process(Signal.TRACES, trace("api", span))).getResourceSpans(0)
        .getScopeSpans(0).getSpans(0);
    Map<String, String> a = strings(s.getAttributesList());
    assertThat(a).containsOnlyKeys("http.method", "password"); // API.Token is not allowed (case-sensitive)
    assertThat(a.get("password")).isEqualTo(p.hash("hunter2"));
    assertThat(count("not_allowed")).isEqualTo(2);
  }

  @Test
  void rulesAreScopedBySignalAndService() {
    RedactionProcessor p = processor(List.of(), List.of(), Action.MASK, false,
        new Rule("checkout-emails", "email", null, Action.MASK, Set.of(Signal.TRACES), Set.of("checkout")));
    Span span = Span.newBuilder().setName("s").addAttributes(kv("user", "jane@example.com")).build();
    assertThat(strings(((ExportTraceServiceRequest) p.process(Signal.TRACES, trace("checkout", span)))
        .getResourceSpans(0).getScopeSpans(0).getSpans(0).getAttributesList())).containsEntry("user", "****");
    assertThat(strings(((ExportTraceServiceRequest) p.process(Signal.TRACES, trace("search", span)))
        .getResourceSpans(0).getScopeSpans(0).getSpans(0).getAttributesList()))
        .containsEntry("user", "jane@example.com");
    ExportLogsServiceRequest logs = ExportLogsServiceRequest.newBuilder().addResourceLogs(ResourceLogs.newBuilder()
        .setResource(Resource.newBuilder().addAttributes(kv("service.name", "checkout")))
        .addScopeLogs(ScopeLogs.newBuilder().addLogRecords(LogRecord.newBuilder().addAttributes(
            kv("user", "jane@example.com"))))).build();
    assertThat(p.process(Signal.LOGS, logs)).isSameAs(logs); // no rule for logs at all: untouched
  }

  @Test
  void untouchedRequestsKeepTheirAttributeLists() {
    RedactionProcessor p = processor(List.of(), List.of(), Action.MASK, true, rule("emails", "email", Action.MASK));
    Span span = Span.newBuilder().setName("clean").addAttributes(kv("k", "v")).build();
    ExportTraceServiceRequest in = trace("api", span);
    ExportTraceServiceRequest out = (ExportTraceServiceRequest) p.process(Signal.TRACES, trace("api", span));
    assertThat(out.getResourceSpans(0).getScopeSpans(0).getSpans(0)).isEqualTo(span);
    assertThat(out.getResourceSpans(0).getResource()).isNotEqualTo(in.getResourceSpans(0).getResource()
        .toBuilder().clear().build());
  }

  @Test
  void configRejectsHashWithoutAKeyAndUnknownDetectors() {
    assertThatThrownBy(() -> new RedactionProcessorConfig("r", List.of(), List.of(), Action.MASK, null,
        List.of(rule("c", "credit_card", Action.HASH)), false)).hasMessageStartingWith("hash_key:");
    assertThatThrownBy(() -> rule("x", "passport", Action.MASK)).hasMessageContaining("unknown detector \"passport\"");
    assertThatThrownBy(() -> new Rule("x", null, "(?<=a)b", Action.MASK, Set.of(), Set.of()))
        .hasMessageContaining("invalid RE2 pattern");
  }

  /**
   * The warm-up's copy runs the same rules (the synthetic spans carry e-mail addresses and a card number, so the
   * detectors' matching and masking run) and counts into meters of its own: the gateway's registry sees nothing.
   */
  @Test
  void theWarmUpCopyRedactsLikeTheOriginalAndCountsNothingOfIt() {
    RedactionProcessor original = processor(List.of(), List.of("password"), Action.DROP, false,
        rule("emails", "email", Action.MASK), rule("cards", "credit_card", Action.MASK));
    var synthetic = dev.telemetry.gateway.otlp.Warmup.request(Signal.TRACES);
    assertThat(synthetic.toString()).contains("@example.com", "4111 1111 1111 1111");
    var copy = original.warmUpCopy();
    assertThat(copy).isNotSameAs(original);
    var redacted = copy.process(Signal.TRACES, synthetic);
    assertThat(redacted.toString()).doesNotContain("@example.com", "4111 1111 1111 1111");
    assertThat(redacted).isEqualTo(original.process(Signal.TRACES, synthetic));
    // Only the original's own call above is counted here: one redaction per e-mail and per card.
    double once = registry.find("gateway.processor.redaction.redactions").counters().stream()
        .mapToDouble(io.micrometer.core.instrument.Counter::count).sum();
    assertThat(once).isPositive();
    copy.process(Signal.TRACES, synthetic);
    assertThat(registry.find("gateway.processor.redaction.redactions").counters().stream()
        .mapToDouble(io.micrometer.core.instrument.Counter::count).sum()).isEqualTo(once);
  }
}
