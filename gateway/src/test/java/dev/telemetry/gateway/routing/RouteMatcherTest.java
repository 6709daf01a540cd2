package dev.telemetry.gateway.routing;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import dev.telemetry.gateway.otlp.Signal;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.InstrumentationScope;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.opentelemetry.proto.logs.v1.SeverityNumber;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.proto.trace.v1.Status;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class RouteMatcherTest {
  static final SimpleMeterRegistry REGISTRY = new SimpleMeterRegistry();

  static RouteMatcher matcher(String json) throws RoutingTableException {
    return new RouteMatcher(RoutingTableParser.parse(json, RoutingTableParserTest.CATALOG), REGISTRY);
  }

  static KeyValue kv(String k, Object v) {
    AnyValue.Builder b = AnyValue.newBuilder();
    if (v instanceof Long l) {
      b.setIntValue(l);
    } else if (v instanceof Double d) {
      b.setDoubleValue(d);
    } else if (v instanceof Boolean x) {
      b.setBoolValue(x);
    } else {
      b.setStringValue(v.toString());
    }
    return KeyValue.newBuilder().setKey(k).setValue(b).build();
  }

  static Span span(String name, Span.SpanKind kind, boolean error, KeyValue... attrs) {
    return Span.newBuilder().setName(name).setKind(kind).setTraceId(ByteString.copyFrom(new byte[16]))
        .setSpanId(ByteString.copyFrom(new byte[8])).addAllAttributes(List.of(attrs))
        .setStatus(Status.newBuilder().setCode(error ? Status.StatusCode.STATUS_CODE_ERROR
            : Status.StatusCode.STATUS_CODE_UNSET)).build();
  }

  static ResourceSpans resource(String service, ScopeSpans... scopes) {
    return ResourceSpans.newBuilder().setResource(Resource.newBuilder().addAttributes(kv("service.name", service)))
        .addAllScopeSpans(List.of(scopes)).build();
  }

  static ScopeSpans scope(String name, Span... spans) {
    return ScopeSpans.newBuilder().setScope(InstrumentationScope.newBuilder().setName(name))
        .addAllSpans(List.of(spans)).build();
  }

  static Map<String, List<String>> spanNamesByRule(List<RouteMatcher.Part> parts) {
    Map<String, List<String>> out = new TreeMap<>();
    for (RouteMatcher.Part p : parts) {
      List<String> names = new ArrayList<>();
      if (p.request() != null) {
        for (ResourceSpans rs : ((ExportTraceServiceRequest) p.request()).getResourceSpansList()) {
          for (ScopeSpans ss : rs.getScopeSpansList()) {
            ss.getSpansList().forEach(s -> names.add(s.getName()));
          }
        }
      }
      out.put(p.route().ruleId() + (p.request() == null ? "(dropped " + p.items() + ")" : ""), names);
    }
    return out;
  }

  @Test
  void wholeRequestOnOneRouteIsPassedOnUncopied() throws Exception {
    RouteMatcher m = matcher("""
        {"rules": [{"id": "shop", "match": {"resource": {"service.name": "shop"}}, "exporters": ["archive"]}]}""");
    ExportTraceServiceRequest req = ExportTraceServiceRequest.newBuilder()
        .addResourceSpans(resource("shop", scope("s", span("a", Span.SpanKind.SPAN_KIND_SERVER, false))))
        .addResourceSpans(resource("shop", scope("s", span("b", Span.SpanKind.SPAN_KIND_SERVER, false)))).build();
    List<RouteMatcher.Part> parts = m.route(Signal.TRACES, req, 2, null);
    assertThat(parts).singleElement().satisfies(p -> {
      assertThat(p.request()).isSameAs(req);
      assertThat(p.route().ruleId()).isEqualTo("shop");
      assertThat(p.items()).isEqualTo(2);
    });
  }

  @Test
  void splitsByResourceScopeAndItemKeepingUntouchedEntriesShared() throws Exception {
    RouteMatcher m = matcher("""
        {"rules": [
          {"id": "health", "match": {"span_name": {"prefix": "GET /health"}}, "drop": true},
          {"id": "copy-errors", "match": {"span_status": "ERROR"}, "exporters": ["archive"], "continue": true},
          {"id": "jdbc", "match": {"scope": {"name": {"prefix": "io.jdbc"}}}, "exporters": ["archive"]},
          {"id": "shop", "match": {"signal": "traces", "resource": {"service.name": "shop"}},
           "exporters": ["jaeger"]}
        ]}""");
    ScopeSpans jdbc = scope("io.jdbc", span("select", Span.SpanKind.SPAN_KIND_CLIENT, false));
    ResourceSpans other = resource("billing", scope("http", span("GET /pay", Span.SpanKind.SPAN_KIND_SERVER, false)));
    ExportTraceServiceRequest req = ExportTraceServiceRequest.newBuilder()
        .addResourceSpans(resource("shop",
            scope("http", span("GET /health", Span.SpanKind.SPAN_KIND_SERVER, false),
                span("GET /cart", Span.SpanKind.SPAN_KIND_SERVER, true),
                span("GET /item", Span.SpanKind.SPAN_KIND_SERVER, false)),
            jdbc))
        .addResourceSpans(other).build();
    List<RouteMatcher.Part> parts = m.route(Signal.TRACES, req, 5, null);
    assertThat(spanNamesByRule(parts)).containsExactlyInAnyOrderEntriesOf(Map.of(
        "health(dropped 1)", List.of(),
        "copy-errors", List.of("GET /cart"),
        "jdbc", List.of("select"),
        "shop", List.of("GET /cart", "GET /item"),
        "default", List.of("GET /pay")));
    RouteMatcher.Part jdbcPart = parts.stream().filter(p -> p.route().ruleId().equals("jdbc")).findFirst()
        .orElseThrow();
    assertThat(((ExportTraceServiceRequest) jdbcPart.request()).getResourceSpans(0).getScopeSpans(0)).isSameAs(jdbc);
    RouteMatcher.Part def = parts.stream().filter(p -> p.route().isDefault()).findFirst().orElseThrow();
    assertThat(((ExportTraceServiceRequest) def.request()).getResourceSpans(0)).isSameAs(other);
    assertThat(REGISTRY.find("gateway.routing.dropped.items").tag("rule", "health").counter().count()).isEqualTo(1);
  }

  @Test
  void tenantComesFromHeaderThenAttributeThenDefault() throws Exception {
    RouteMatcher m = matcher("""
        {"tenant": {"header": "X-Scope-OrgID", "attribute": "tenant.id", "default": "shared"},
         "rules": [{"id": "acme", "match": {"tenant": "acme"}, "exporters": ["archive"]},
                   {"id": "shared", "match": {"tenant": "shared"}, "drop": true}]}""");
    ResourceSpans tagged = ResourceSpans.newBuilder().setResource(Resource.newBuilder()
        .addAttributes(kv("tenant.id", "acme"))).addScopeSpans(scope("s", span("x", Span.SpanKind.SPAN_KIND_SERVER,
            false))).build();
    ResourceSpans untagged = resource("svc", scope("s", span("y", Span.SpanKind.SPAN_KIND_SERVER, false)));
    ExportTraceServiceRequest req = ExportTraceServiceRequest.newBuilder().addResourceSpans(tagged)
        .addResourceSpans(untagged).build();
    assertThat(spanNamesByRule(m.route(Signal.TRACES, req, 2, null)))
        .containsOnlyKeys("acme", "shared(dropped 1)").containsEntry("acme", List.of("x"));
    assertThat(spanNamesByRule(m.route(Signal.TRACES, req, 2, "acme"))).containsOnlyKeys("acme")
        .containsEntry("acme", List.of("x", "y"));
    assertThat(spanNamesByRule(m.route(Signal.TRACES, req, 2, "other"))).containsOnlyKeys("default");
  }

  @Test
  void logSeverityBodyAndTypedAttributes() throws Exception {
    RouteMatcher m = matcher("""
        {"rules": [
          {"id": "noise", "match": {"body": {"regex": "(?i)^heartbeat"}}, "drop": true},
          {"id": "slow", "match": {"attribute": {"duration_ms": {"in": [500, 1000]}}}, "exporters": ["archive"]},
          {"id": "flag", "match": {"attribute": {"retry": true}}, "exporters": ["archive"]},
          {"id": "ratio", "match": {"attribute": {"ratio": 2}}, "exporters": ["archive"]},
          {"id": "warn", "match": {"severity": {"at_least": "WARN"}}, "elasticsearch": {"index": "alerts"}},
          {"id": "unset", "match": {"severity": {"exists": false}}, "exporters": ["archive"]}
        ]}""");
    List<LogRecord> records = List.of(
        LogRecord.newBuilder().setBody(AnyValue.newBuilder().setStringValue("Heartbeat ok")).build(),
        LogRecord.newBuilder().addAttributes(kv("duration_ms", 500L)).build(),
        LogRecord.newBuilder().addAttributes(kv("retry", true)).build(),
        LogRecord.newBuilder().addAttributes(kv("ratio", 2.0)).setSeverityNumber(SeverityNumber.SEVERITY_NUMBER_INFO)
            .build(),
        LogRecord.newBuilder().setSeverityNumber(SeverityNumber.SEVERITY_NUMBER_ERROR2).build(),
        LogRecord.newBuilder().setSeverityNumber(SeverityNumber.SEVERITY_NUMBER_INFO).build());
    ResourceLogs rl = ResourceLogs.newBuilder().addScopeLogs(ScopeLogs.newBuilder().addAllLogRecords(records)).build();
    List<String> expected = List.of("noise", "slow", "flag", "ratio", "warn", "default");
    for (int i = 0; i < records.size(); i++) {
      assertThat(m.decide(Signal.LOGS, null, rl, rl.getScopeLogs(0), records.get(i)))
          .extracting(Route::ruleId).as("record %d", i).containsExactly(expected.get(i));
    }
    List<RouteMatcher.Part> parts = m.route(Signal.LOGS, ExportLogsServiceRequest.newBuilder().addResourceLogs(rl)
        .build(), records.size(), null);
    assertThat(parts).extracting(p -> p.route().ruleId()).containsExactlyInAnyOrderElementsOf(expected);
  }

  /**
   * The optimised path (index, per-level evaluation, shared entries) must route every item exactly where the plain
   * rule-by-rule evaluation sends it, over random tables and requests.
   */
  @Test
  void fastPathAgreesWithRuleByRuleEvaluation() throws Exception {
    String[] conditions = {
        "{\"resource\": {\"service.name\": \"svc%d\"}}",
        "{\"resource\": {\"service.name\": {\"in\": [\"svc%d\", \"svc1\"]}}}",
        "{\"resource\": {\"env\": {\"prefix\": \"prod\"}}, \"resource\": {\"service.name\": \"svc%d\"}}",
        "{\"scope\": {\"name\": \"lib%d\"}}",
        "{\"span_name\": {\"regex\": \"op%d$\"}}",
        "{\"span_status\": \"ERROR\", \"resource\": {\"service.name\": \"svc%d\"}}",
        "{\"not\": {\"attribute\": {\"http.route\": {\"exists\": true}}}, \"tenant\": \"t%d\"}",
        "{\"any\": [{\"tenant\": \"t%d\"}, {\"span_kind\": \"CLIENT\"}]}",
        "{\"attribute\": {\"http.route\": \"/r%d\"}}"};
    Random rnd = new Random(42);
    int checked = 0;
    for (int round = 0; round < 200; round++) {
      List<String> rules = new ArrayList<>();
      int n = 2 + rnd.nextInt(25);
      for (int i = 0; i < n; i++) {
        String cond = String.format(conditions[rnd.nextInt(conditions.length)], rnd.nextInt(6));
        String action = rnd.nextInt(5) == 0 ? "\"drop\": true"
            : "\"exporters\": [\"archive\"]" + (rnd.nextInt(3) == 0 ? ", \"continue\": true" : "");
        rules.add("{\"id\": \"r" + i + "\", \"match\": " + cond + ", " + action + "}");
      }
      // Random tables often contain shadowed rules; validation rejects those, so leave them out and retry.
      RouteMatcher m = null;
      String table = null;
      for (int attempt = 0; m == null && attempt < 10; attempt++) {
        table = "{\"tenant\": {\"attribute\": \"tenant\"}, \"rules\": [" + String.join(",", rules) + "]}";
        try {
          m = matcher(table);
        } catch (RoutingTableException e) {
          List<Integer> bad = e.problems().stream().map(x -> x.replaceFirst("^rules\\[(\\d+)\\].*", "$1"))
              .map(Integer::valueOf).distinct().sorted(java.util.Comparator.reverseOrder()).toList();
          bad.forEach(i -> rules.remove((int) i));
        }
      }
      if (m == null || m.table().rules().size() < 2) {
        continue;
      }
      ExportTraceServiceRequest.Builder req = ExportTraceServiceRequest.newBuilder();
      int seq = 0;
      for (int r = 0; r < 1 + rnd.nextInt(4); r++) {
        ResourceSpans.Builder rs = ResourceSpans.newBuilder().setResource(Resource.newBuilder()
            .addAttributes(kv("service.name", "svc" + rnd.nextInt(6)))
            .addAttributes(kv("env", rnd.nextBoolean() ? "prod-eu" : "dev"))
            .addAttributes(kv("tenant", "t" + rnd.nextInt(6))));
        for (int s = 0; s < 1 + rnd.nextInt(3); s++) {
          ScopeSpans.Builder ss = ScopeSpans.newBuilder().setScope(InstrumentationScope.newBuilder()
              .setName("lib" + rnd.nextInt(6)));
          for (int i = 0; i < 1 + rnd.nextInt(5); i++) {
            KeyValue[] attrs = rnd.nextBoolean() ? new KeyValue[] {kv("http.route", "/r" + rnd.nextInt(6))}
                : new KeyValue[0];
            ss.addSpans(span("item" + (seq++) + " op" + rnd.nextInt(6),
                rnd.nextBoolean() ? Span.SpanKind.SPAN_KIND_CLIENT : Span.SpanKind.SPAN_KIND_SERVER,
                rnd.nextInt(4) == 0, attrs));
          }
          rs.addScopeSpans(ss);
        }
        req.addResourceSpans(rs);
      }
      ExportTraceServiceRequest request = req.build();
      String header = rnd.nextInt(4) == 0 ? "t" + rnd.nextInt(6) : null;
      Map<String, List<String>> expected = new TreeMap<>();
      Map<String, Integer> expectedDrops = new HashMap<>();
      for (ResourceSpans rs : request.getResourceSpansList()) {
        for (ScopeSpans ss : rs.getScopeSpansList()) {
          for (Span sp : ss.getSpansList()) {
            for (Route route : m.decide(Signal.TRACES, header, rs, ss, sp)) {
              if (route.action().drop()) {
                expectedDrops.merge(route.ruleId(), 1, Integer::sum);
              } else {
                expected.computeIfAbsent(route.ruleId(), k -> new ArrayList<>()).add(sp.getName());
              }
            }
          }
        }
      }
      Map<String, List<String>> actual = new TreeMap<>();
      Map<String, Integer> actualDrops = new HashMap<>();
      for (RouteMatcher.Part p : m.route(Signal.TRACES, request, seq, header)) {
        if (p.request() == null) {
          actualDrops.put(p.route().ruleId(), p.items());
        } else {
          List<String> names = new ArrayList<>();
          for (Message rx : ((ExportTraceServiceRequest) p.request()).getResourceSpansList()) {
            for (ScopeSpans ss : ((ResourceSpans) rx).getScopeSpansList()) {
              ss.getSpansList().forEach(s -> names.add(s.getName()));
            }
          }
          assertThat(p.items()).isEqualTo(names.size());
          actual.put(p.route().ruleId(), names);
        }
      }
      assertThat(actual).as("round %d: %s", round, table).isEqualTo(expected);
      assertThat(actualDrops).as("round %d", round).isEqualTo(expectedDrops);
      checked++;
    }
    assertThat(checked).as("tables that passed validation").isGreaterThan(100);
  }

  /** Each operator and combinator on each subject, against one span, one log record and one metric. */
  @Test
  void everyOperatorOnEverySubject() throws Exception {
    Span sp = span("GET /orders/{id}", Span.SpanKind.SPAN_KIND_SERVER, true, kv("http.route", "/orders/{id}"),
        kv("http.response.status_code", 503L), kv("retry", false));
    ResourceSpans rs = ResourceSpans.newBuilder().setResource(Resource.newBuilder()
        .addAttributes(kv("service.name", "orders")).addAttributes(kv("tenant.id", "acme")))
        .addScopeSpans(ScopeSpans.newBuilder().setScope(InstrumentationScope.newBuilder().setName("io.http")
            .setVersion("1.2.0")).addSpans(sp)).build();
    LogRecord log = LogRecord.newBuilder().setSeverityNumber(SeverityNumber.SEVERITY_NUMBER_WARN2)
        .setBody(AnyValue.newBuilder().setStringValue("disk 91% full")).build();
    ResourceLogs rl = ResourceLogs.newBuilder().setResource(Resource.newBuilder()
        .addAttributes(kv("service.name", "orders"))).addScopeLogs(ScopeLogs.newBuilder().addLogRecords(log)).build();
    io.opentelemetry.proto.metrics.v1.Metric metric = io.opentelemetry.proto.metrics.v1.Metric.newBuilder()
        .setName("jvm.memory.used").build();
    io.opentelemetry.proto.metrics.v1.ResourceMetrics rm = io.opentelemetry.proto.metrics.v1.ResourceMetrics
        .newBuilder().addScopeMetrics(io.opentelemetry.proto.metrics.v1.ScopeMetrics.newBuilder().addMetrics(metric))
        .build();
    Object[][] spanCases = {
        {"{\"signal\": \"traces\"}", true}, {"{\"signal\": {\"in\": [\"logs\", \"metrics\"]}}", false},
        {"{\"tenant\": \"acme\"}", true}, {"{\"tenant\": {\"prefix\": \"ac\"}}", true},
        {"{\"resource\": {\"service.name\": {\"regex\": \"der\"}}}", true},
        {"{\"resource\": {\"service.name\": {\"regex\": \"^der\"}}}", false},
        {"{\"resource\": {\"k8s.pod.name\": {\"exists\": false}}}", true},
        {"{\"resource\": {\"service.name\": {\"exists\": true}}}", true},
        {"{\"scope\": {\"name\": \"io.http\", \"version\": {\"prefix\": \"1.\"}}}", true},
        {"{\"scope\": {\"version\": \"2.0.0\"}}", false},
        {"{\"attribute\": {\"http.response.status_code\": {\"in\": [500, 503]}}}", true},
        {"{\"attribute\": {\"http.response.status_code\": {\"prefix\": \"5\"}}}", true},
        {"{\"attribute\": {\"retry\": false}}", true},
        {"{\"attribute\": {\"retry\": \"true\"}}", false},
        {"{\"span_name\": {\"equals\": \"GET /orders/{id}\"}}", true},
        {"{\"span_kind\": \"server\", \"span_status\": \"ERROR\"}", true},
        {"{\"span_kind\": {\"in\": [\"CLIENT\", \"PRODUCER\"]}}", false},
        {"{\"severity\": {\"exists\": true}}", false},
        {"{\"metric_name\": {\"exists\": false}}", true},
        {"{\"all\": [{\"tenant\": \"acme\"}, {\"span_status\": \"OK\"}]}", false},
        {"{\"any\": [{\"tenant\": \"globex\"}, {\"span_status\": \"ERROR\"}]}", true},
        {"{\"not\": {\"any\": [{\"tenant\": \"globex\"}, {\"span_status\": \"ERROR\"}]}}", false},
    };
    for (Object[] c : spanCases) {
      assertThat(matches(c[0], Signal.TRACES, rs, rs.getScopeSpans(0), sp)).as("%s", c[0]).isEqualTo(c[1]);
    }
    Object[][] logCases = {
        {"{\"severity\": \"WARN\"}", true}, {"{\"severity\": 14}", true}, {"{\"severity\": 13}", false},
        {"{\"severity\": {\"at_least\": \"ERROR\"}}", false}, {"{\"severity\": {\"in\": [\"INFO\", 14]}}", true},
        {"{\"body\": {\"regex\": \"\\\\d+% full\"}}", true}, {"{\"span_name\": {\"exists\": true}}", false},
        {"{\"tenant\": {\"exists\": true}}", false},
    };
    for (Object[] c : logCases) {
      assertThat(matches(c[0], Signal.LOGS, rl, rl.getScopeLogs(0), log)).as("%s", c[0]).isEqualTo(c[1]);
    }
    assertThat(matches("{\"metric_name\": {\"prefix\": \"jvm.\"}}", Signal.METRICS, rm, rm.getScopeMetrics(0),
        metric)).isTrue();
    assertThat(matches("{\"attribute\": {\"x\": {\"exists\": true}}}", Signal.METRICS, rm,
        rm.getScopeMetrics(0), metric)).isFalse();
  }

  private static boolean matches(Object match, Signal signal, Message rx, Message sx, Message item) throws Exception {
    RouteMatcher m = matcher("{\"tenant\": {\"attribute\": \"tenant.id\"}, \"rules\": [{\"id\": \"r\", "
        + "\"match\": " + match + ", \"exporters\": [\"archive\"]}]}");
    return m.decide(signal, null, rx, sx, item).get(0).ruleId().equals("r");
  }
}
