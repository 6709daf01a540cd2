package dev.telemetry.gateway.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.telemetry.gateway.otlp.Signal;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RoutingTableParserTest {
  static final RoutingCatalog CATALOG = new RoutingCatalog(Map.of(
      Signal.TRACES, List.of("jaeger", "archive"),
      Signal.METRICS, List.of("prometheus", "archive"),
      Signal.LOGS, List.of("elasticsearch", "archive")),
      Set.of("pci", "basic"), Set.of("keep-errors", "strict"));

  static RoutingTable parse(String json) throws RoutingTableException {
    return RoutingTableParser.parse(json, CATALOG);
  }

  static List<String> problems(String json) {
    try {
      parse(json);
    } catch (RoutingTableException e) {
      return e.problems();
    }
    throw new AssertionError("expected the table to be rejected");
  }

  @Test
  void fullTableParsesWithEveryOperatorAndAction() throws Exception {
    RoutingTable t = parse("""
        {"tenant": {"header": "X-Scope-OrgID", "attribute": "tenant.id", "default": "shared"},
         "rules": [
          {"id": "health", "match": {"signal": "traces", "attribute": {"url.path": {"in": ["/healthz", "/ready"]}}},
           "drop": true},
          {"id": "audit", "match": {"signal": "logs", "resource": {"service.name": {"prefix": "audit-"}}},
           "exporters": ["archive"], "continue": true},
          {"id": "pay", "match": {"any": [{"resource": {"service.name": {"regex": "^payments-(api|worker)$"}}},
                                           {"tenant": "acme"}]},
           "exporters": ["archive"], "redaction": "pci"},
          {"id": "errors", "match": {"all": [{"signal": {"in": ["traces"]}}, {"span_status": "ERROR"},
                                             {"span_kind": {"in": ["server", "CONSUMER"]}}]},
           "sampling": "keep-errors"},
          {"id": "warn-logs", "match": {"signal": "logs", "severity": {"at_least": "WARN"},
                                        "not": {"body": {"regex": "(?i)heartbeat"}}},
           "elasticsearch": {"dataset": "alerts", "namespace": "prod"}},
          {"id": "jvm", "match": {"signal": "metrics", "metric_name": {"prefix": "jvm."},
                                  "scope": {"name": {"exists": true}}}, "exporters": ["prometheus"]}
         ],
         "default": {"logs": {"exporters": ["elasticsearch"], "redaction": "basic"}}}""");
    assertThat(t.rules()).extracting(Rule::id).containsExactly("health", "audit", "pay", "errors", "warn-logs", "jvm");
    assertThat(t.tenant()).isEqualTo(new TenantSource("x-scope-orgid", "tenant.id", "shared"));
    assertThat(t.rules().get(0).action().drop()).isTrue();
    assertThat(t.rules().get(1).cont()).isTrue();
    assertThat(t.rules().get(4).action().elasticsearch()).isEqualTo(
        new Action.ElasticsearchTarget("alerts", "prod", null));
    assertThat(t.defaults().get(Signal.LOGS).redaction()).isEqualTo("basic");
    Match.Test kind = (Match.Test) ((Match.All) t.rules().get(3).match()).of().get(2);
    assertThat(kind.op()).isEqualTo(new Operator.In(Set.of("SERVER", "CONSUMER")));
  }

  @Test
  void unknownNamesAreReportedWithThePathAndTheFix() {
    List<String> p = problems("""
        {"rules": [
          {"id": "a", "match": {"signal": "logs"}, "exporters": ["elasticsearch", "jaeger"], "redaction": "nope"},
          {"id": "b", "match": {}, "exporters": ["elasticsearch"]},
          {"id": "c", "match": {"signal": "logs"}, "sampling": "strict"}
        ]}""");
    assertThat(p).anySatisfy(s -> assertThat(s).startsWith("rules[0].exporters[1]: exporter \"jaeger\" is not in "
        + "the logs pipeline"));
    assertThat(p).anySatisfy(s -> assertThat(s).startsWith("rules[0].redaction: no redaction processor named "
        + "\"nope\" (defined: basic, pci)"));
    assertThat(p).anySatisfy(s -> assertThat(s).startsWith("rules[1].exporters[0]: exporter \"elasticsearch\" is "
        + "not in the traces pipeline").contains("add {\"signal\": \"...\"} to the match"));
    assertThat(p).anySatisfy(s -> assertThat(s).isEqualTo("rules[2].sampling: tail sampling applies to traces "
        + "only, and this rule cannot match traces"));
  }

  @Test
  void duplicateIdsAndShadowedRulesAreRejected() {
    List<String> p = problems("""
        {"rules": [
          {"id": "pay", "match": {"resource": {"service.name": {"prefix": "pay"}}}, "exporters": ["archive"]},
          {"id": "pay", "match": {"signal": "logs"}, "drop": true},
          {"id": "pay-api", "match": {"signal": "traces", "resource": {"service.name": "payments-api"}},
           "exporters": ["jaeger"]},
          {"id": "tenants", "match": {"tenant": {"in": ["a", "b"]}}, "exporters": ["archive"], "continue": true},
          {"id": "tenant-a", "match": {"tenant": "a"}, "exporters": ["archive"]},
          {"id": "warn", "match": {"severity": {"at_least": "WARN"}, "signal": "logs"}, "exporters": ["archive"]},
          {"id": "error", "match": {"signal": "logs", "severity": "ERROR"}, "exporters": ["archive"]},
          {"id": "regex", "match": {"resource": {"k": {"regex": "x"}}}, "exporters": ["archive"]},
          {"id": "regex-narrower", "match": {"resource": {"k": {"regex": "x"}, "j": {"exists": true}}},
           "exporters": ["archive"]},
          {"id": "regex-other", "match": {"resource": {"k": {"regex": "y"}}}, "exporters": ["archive"]}
        ]}""");
    assertThat(p).anySatisfy(s -> assertThat(s).startsWith("rules[1].id: rule ID \"pay\" is already used by "
        + "rules[0]"));
    assertThat(p).anySatisfy(s -> assertThat(s).startsWith("rules[2]: rule \"pay-api\" can never match: rule "
        + "\"pay\" (rules[0]) matches everything it matches"));
    // a rule that continues shadows nothing
    assertThat(p).noneSatisfy(s -> assertThat(s).contains("\"tenant-a\" can never match"));
    assertThat(p).anySatisfy(s -> assertThat(s).startsWith("rules[6]: rule \"error\" can never match: rule "
        + "\"warn\""));
    assertThat(p).anySatisfy(s -> assertThat(s).startsWith("rules[8]: rule \"regex-narrower\" can never match"));
    assertThat(p).noneSatisfy(s -> assertThat(s).contains("\"regex-other\" can never match"));
    assertThat(p).hasSize(4);
  }

  @Test
  void catchAllShadowsEverythingAfterIt() {
    assertThat(problems("""
        {"rules": [{"id": "all", "match": {}, "exporters": ["archive"]},
                   {"id": "x", "match": {"span_name": "GET"}, "exporters": ["archive"]}]}"""))
        .containsExactly("rules[1]: rule \"x\" can never match: rule \"all\" (rules[0]) matches everything it "
            + "matches and does not continue; move \"x\" above it, narrow \"all\", or give \"all\" \"continue\": "
            + "true");
  }

  @Test
  void malformedConditionsNameTheirPath() {
    List<String> p = problems("""
        {"rules": [
          {"id": "a", "match": {"resource": {"service.name": {"regex": "(?<name>x)\\\\1"}}}, "drop": true},
          {"id": "b", "match": {"signal": "spans"}, "drop": true},
          {"id": "c", "match": {"span_kind": {"prefix": "SER"}}, "drop": true},
          {"id": "d", "match": {"severity": {"at_least": "LOUD"}}, "drop": true},
          {"id": "e", "match": {"attribute": {"x": {"equals": 1, "in": [1]}}}, "drop": true},
          {"id": "f", "match": {"colour": "red"}, "drop": true},
          {"id": "g", "match": {"any": []}, "drop": true, "continue": true},
          {"id": "h", "exporters": []},
          {"id": "default", "match": {"tenant": {"exists": "yes"}}, "drop": true, "exporters": ["archive"]},
          {"match": {}, "drop": true}
        ],
        "default": {"profiles": {}}, "extra": 1}""");
    assertThat(p).anySatisfy(s -> assertThat(s).startsWith("rules[0].match.resource[\"service.name\"].regex: "
        + "invalid RE2 regular expression"));
    assertThat(p).anySatisfy(s -> assertThat(s).startsWith("rules[1].match.signal: \"spans\" is not a signal"));
    assertThat(p).anySatisfy(s -> assertThat(s).startsWith("rules[2].match.span_kind.prefix: span_kind takes "
        + "equals or in"));
    assertThat(p).anySatisfy(s -> assertThat(s).startsWith("rules[3].match.severity.at_least: expected a severity "
        + "name"));
    assertThat(p).anySatisfy(s -> assertThat(s).startsWith("rules[4].match.attribute.x: expected exactly one "
        + "operator"));
    assertThat(p).anySatisfy(s -> assertThat(s).startsWith("rules[5].match.colour: unknown condition"));
    assertThat(p).anySatisfy(s -> assertThat(s).startsWith("rules[6].match.any: is empty"));
    assertThat(p).anySatisfy(s -> assertThat(s).startsWith("rules[6].continue: a rule that drops items cannot "
        + "continue"));
    assertThat(p).anySatisfy(s -> assertThat(s).startsWith("rules[7].match: is required; use {} to match "
        + "everything"));
    assertThat(p).anySatisfy(s -> assertThat(s).startsWith("rules[7].exporters: is empty"));
    assertThat(p).anySatisfy(s -> assertThat(s).startsWith("rules[8].id: \"default\" is reserved"));
    assertThat(p).anySatisfy(s -> assertThat(s).startsWith("rules[8].match.tenant.exists: expected true or "
        + "false"));
    assertThat(p).anySatisfy(s -> assertThat(s).startsWith("rules[8].drop: a dropping rule takes no exporters"));
    assertThat(p).anySatisfy(s -> assertThat(s).startsWith("rules[9].id: is required"));
    assertThat(p).anySatisfy(s -> assertThat(s).startsWith("default.profiles: unknown key"));
    assertThat(p).anySatisfy(s -> assertThat(s).startsWith("extra: unknown key"));
  }

  /** A routing table is written back to its file as read, so it is taken literally: no env substitution. */
  @Test
  void valuesAreLiteralAndEveryShapeMistakeIsReportedAtOnce() {
    List<String> p = problems("""
        {"tenant": {"header": " "},
         "rules": [{"id": "x", "match": {}, "exporters": ["${env:EXPORTER}"]}, "not-a-rule",
                   {"id": "y", "match": {}, "elasticsearch": "logs", "drop": "yes"}]}""");
    assertThat(p).contains("tenant.header: expected a non-empty string, found \" \"",
        "rules[1]: expected an object, found \"not-a-rule\"",
        "rules[2].elasticsearch: expected an object, found \"logs\"",
        "rules[2].drop: expected true or false, found \"yes\"");
    assertThat(p).anySatisfy(s -> assertThat(s).startsWith("rules[0].exporters[0]: exporter \"${env:EXPORTER}\" is "
        + "not in the"));
  }

  @Test
  void defaultsNeedAPipelineAndItsExporters() {
    RoutingCatalog logsOnly = new RoutingCatalog(Map.of(Signal.LOGS, List.of("elasticsearch")), Set.of(), Set.of());
    assertThatThrownBy(() -> RoutingTableParser.parse("""
        {"rules": [], "default": {"traces": {"exporters": ["jaeger"]}, "logs": {"exporters": ["jaeger"]}}}""",
        logsOnly)).isInstanceOfSatisfying(RoutingTableException.class, e -> assertThat(e.problems()).containsExactly(
            "default.traces: there is no traces pipeline in the gateway config; remove this default or add the "
                + "pipeline",
            "default.logs.exporters[0]: exporter \"jaeger\" is not in the logs pipeline (it has: elasticsearch), and "
                + "this rule can match logs; add {\"signal\": \"...\"} to the match to narrow it, or add the exporter "
                + "to pipelines.logs.exporters in the gateway config"));
  }

  @Test
  void notJsonIsAClearError() {
    assertThat(problems("{\"rules\": [")).singleElement().asString().startsWith("(root): not valid JSON");
    assertThat(problems("{}")).containsExactly("rules: is required (a list; it may be empty)");
  }
}
