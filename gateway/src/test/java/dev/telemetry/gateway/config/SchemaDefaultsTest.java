package dev.telemetry.gateway.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.telemetry.gateway.component.Components;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every {@code default} the JSON Schema publishes is the default the loader applies: for each one, a config that
 * leaves the key out and a config that sets it to the schema's default must load into equal records. Editors and
 * reviewers read the schema; this keeps it from drifting from the Java constants.
 */
class SchemaDefaultsTest {
  static final Path ROOT = Path.of(System.getProperty("gateway.repo.root", ".."));
  static final ObjectMapper MAPPER = new ObjectMapper();

  /** A component's schema fragment, the smallest valid config of it, and where it goes in a gateway config. */
  record Fragment(String def, String section, String signal, String minimal) {
  }

  static final List<Fragment> FRAGMENTS = List.of(
      new Fragment("otlpReceiver", "receivers", "traces", "{\"type\": \"otlp\"}"),
      new Fragment("otlpExporter", "exporters", "traces", "{\"type\": \"otlp\", \"endpoint\": \"http://j:4317\"}"),
      new Fragment("fileExporter", "exporters", "traces", "{\"type\": \"file\", \"directory\": \"d\"}"),
      new Fragment("prometheusRemoteWriteExporter", "exporters", "metrics",
          "{\"type\": \"prometheus_remote_write\", \"endpoint\": \"http://p:9090/api/v1/write\"}"),
      new Fragment("elasticsearchExporter", "exporters", "logs",
          "{\"type\": \"elasticsearch\", \"endpoints\": [\"http://es:9200\"]}"),
      new Fragment("enrichmentProcessor", "processors", "traces", "{\"type\": \"enrichment\"}"),
      new Fragment("redactionProcessor", "processors", "traces", "{\"type\": \"redaction\"}"),
      new Fragment("tailSamplingProcessor", "processors", "traces",
          "{\"type\": \"tail_sampling\", \"policies\": [{\"name\": \"all\", \"type\": \"always_sample\"}]}"),
      new Fragment("spanMetricsConnector", "connectors", "traces", "{\"type\": \"span_metrics\"}"),
      new Fragment("serviceGraphConnector", "connectors", "traces", "{\"type\": \"service_graph\"}"),
      new Fragment("genAiMetricsConnector", "connectors", "traces", "{\"type\": \"gen_ai_metrics\"}"));

  /** Root sections with defaults, and what they need besides to load. */
  static final Map<String, String> ROOT_SECTIONS = Map.ofEntries(
      Map.entry("anomalies", "{}"),
      Map.entry("quotas", "{\"tenants\": {\"t\": {\"items_per_second\": 10}}}"),
      Map.entry("forecasts", "{}"),
      Map.entry("remediations", "{\"actions\": [{\"name\": \"a\", \"when\": {\"alertname\": \"X\"}, "
          + "\"routing_table\": \"t.json\"}]}"),
      Map.entry("memory_limit", "{}"),
      Map.entry("admin", "{\"tls\": {\"cert_file\": \"c.pem\", \"key_file\": \"k.pem\"}}"),
      Map.entry("logging", "{}"),
      Map.entry("routing", "{\"file\": \"routes.json\"}"),
      Map.entry("slos", "{\"file\": \"slos.json\"}"),
      Map.entry("alerting", "{\"alertmanagers\": [\"http://127.0.0.1:9093\"]}"),
      Map.entry("cluster", "{\"discovery\": {\"type\": \"tcp\", \"members\": [\"127.0.0.1:5701\"]}}"));

  static JsonNode schema() throws Exception {
    return MAPPER.readTree(ROOT.resolve("config/gateway.schema.json").toFile());
  }

  /**
   * Every (dotted key path → default) under a schema node, following $refs into objects with properties; a node's
   * own properties beside its $ref override the referenced ones (e.g. one exporter's queue defaults).
   */
  static Map<String, JsonNode> defaults(JsonNode schema, JsonNode node, String prefix) {
    Map<String, JsonNode> out = new LinkedHashMap<>();
    if (node.has("$ref") && node.has("properties")) {
      out.putAll(defaults(schema, schema.at(node.get("$ref").asText().substring(1)), prefix));
    }
    JsonNode resolved = resolve(schema, node);
    resolved.path("properties").fields().forEachRemaining(e -> {
      JsonNode prop = e.getValue();
      if (prop.has("default")) {
        out.put(prefix + e.getKey(), prop.get("default"));
      }
      if (resolve(schema, prop).has("properties") || prop.has("$ref") && resolve(schema, schema.at(
          prop.get("$ref").asText().substring(1))).has("properties")) {
        out.putAll(defaults(schema, prop, prefix + e.getKey() + "."));
      }
    });
    return out;
  }

  static JsonNode resolve(JsonNode schema, JsonNode node) {
    JsonNode n = node;
    while (n.has("$ref") && !n.has("properties")) {
      n = schema.at(n.get("$ref").asText().substring(1));
    }
    return n;
  }

  static Stream<Arguments> componentDefaults() throws Exception {
    JsonNode schema = schema();
    return FRAGMENTS.stream().flatMap(f -> defaults(schema, schema.at("/$defs/" + f.def()), "").entrySet().stream()
        .map(d -> Arguments.of(f.def() + ": " + d.getKey(), f, d.getKey(), d.getValue())));
  }

  static Stream<Arguments> rootDefaults() throws Exception {
    JsonNode schema = schema();
    return defaults(schema, schema, "").entrySet().stream()
        .filter(d -> d.getKey().indexOf('.') < 0 || ROOT_SECTIONS.containsKey(d.getKey().split("\\.")[0]))
        .filter(d -> !d.getKey().startsWith("pipelines."))
        .map(d -> Arguments.of(d.getKey(), d.getKey(), d.getValue()));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("componentDefaults")
  void componentDefaultsInTheSchemaAreTheLoadersDefaults(String label, Fragment f, String key, JsonNode value)
      throws Exception {
    Function<ObjectNode, Object> component = root -> load(root).get(f.section(), "c");
    ObjectNode without = gateway(f);
    ObjectNode with = gateway(f);
    set((ObjectNode) with.get(f.section()).get("c"), key, value);
    assertThat(component.apply(with)).as("%s set to the schema's default %s", key, value)
        .isEqualTo(component.apply(without));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rootDefaults")
  void rootDefaultsInTheSchemaAreTheLoadersDefaults(String key, String sameKey, JsonNode value) throws Exception {
    ObjectNode without = minimalGateway();
    String section = key.split("\\.")[0];
    if (ROOT_SECTIONS.containsKey(section)) {
      without.set(section, MAPPER.readTree(ROOT_SECTIONS.get(section)));
      if (section.equals("remediations")) {
        without.set("routing", MAPPER.readTree(ROOT_SECTIONS.get("routing")));
      }
      if (section.equals("slos") || section.equals("anomalies") || section.equals("forecasts")) {
        // The analytics read the metrics pipeline.
        ((ObjectNode) without.get("pipelines")).set("metrics", MAPPER.readTree(
            "{\"receivers\": [\"otlp\"], \"exporters\": [\"f\"]}"));
      }
    }
    ObjectNode with = without.deepCopy();
    set(with, key, value);
    assertThat(load(with).config()).as("%s set to the schema's default %s", key, value)
        .isEqualTo(load(without).config());
  }

  /** Every registered component type has its schema fragment, selected by its name, and a case here. */
  @org.junit.jupiter.api.Test
  void everyRegisteredTypeHasASchemaFragmentAndADefaultsCase() throws Exception {
    JsonNode schema = schema();
    ComponentTypes types = Components.BUILT_IN.configTypes();
    Map<String, java.util.Set<String>> registered = Map.of("receivers", types.receivers().keySet(), "processors",
        types.processors().keySet(), "exporters", types.exporters().keySet(), "connectors",
        types.connectors().keySet());
    registered.forEach((section, names) -> {
      JsonNode entry = schema.at("/properties/" + section + "/additionalProperties");
      java.util.Set<String> enumNames = new java.util.TreeSet<>();
      entry.at("/properties/type/enum").forEach(n -> enumNames.add(n.asText()));
      assertThat(enumNames).as("%s type names in the schema", section).isEqualTo(new java.util.TreeSet<>(names));
      for (String type : names) {
        String ref = null;
        for (JsonNode branch : entry.get("allOf")) {
          if (branch.at("/if/properties/type/const").asText().equals(type)) {
            ref = branch.at("/then/$ref").asText();
          }
        }
        assertThat(ref).as("%s \"%s\" selects a fragment", section, type).isNotNull();
        String def = ref.substring(ref.lastIndexOf('/') + 1);
        assertThat(schema.at("/$defs/" + def).isMissingNode()).as(ref).isFalse();
        assertThat(FRAGMENTS).as("a defaults case for %s", def).anyMatch(f -> f.def().equals(def)
            && f.section().equals(section));
      }
    });
  }

  static void set(ObjectNode node, String dottedKey, JsonNode value) {
    String[] parts = dottedKey.split("\\.");
    ObjectNode n = node;
    for (int i = 0; i < parts.length - 1; i++) {
      n = n.has(parts[i]) ? (ObjectNode) n.get(parts[i]) : n.putObject(parts[i]);
    }
    n.set(parts[parts.length - 1], value);
  }

  static ObjectNode minimalGateway() throws Exception {
    return (ObjectNode) MAPPER.readTree("""
        {"receivers": {"otlp": {"type": "otlp"}},
         "exporters": {"f": {"type": "file", "directory": "d"}},
         "pipelines": {"traces": {"receivers": ["otlp"], "exporters": ["f"]}}}""");
  }

  /** A gateway whose pipeline for the fragment's signal uses component "c". */
  static ObjectNode gateway(Fragment f) throws Exception {
    ObjectNode root = (ObjectNode) MAPPER.readTree("""
        {"receivers": {"r": {"type": "otlp", "grpc": {"endpoint": "localhost:14317"},
                             "http": {"endpoint": "localhost:14318"}}},
         "processors": {}, "exporters": {"x": {"type": "file", "directory": "x"}}, "pipelines": {}}""");
    if (f.section().equals("connectors")) {
      // A connector joins two pipelines: traces in, metrics out.
      root.putObject("connectors").set("c", MAPPER.readTree(f.minimal()));
      ObjectNode traces = ((ObjectNode) root.get("pipelines")).putObject("traces");
      traces.putArray("receivers").add("r");
      traces.putArray("exporters").add("x").add("c");
      ObjectNode metrics = ((ObjectNode) root.get("pipelines")).putObject("metrics");
      metrics.putArray("receivers").add("c");
      metrics.putArray("exporters").add("x");
      return root;
    }
    ((ObjectNode) root.get(f.section())).set("c", MAPPER.readTree(f.minimal()));
    ObjectNode pipeline = ((ObjectNode) root.get("pipelines")).putObject(f.signal());
    pipeline.putArray("receivers").add(f.section().equals("receivers") ? "c" : "r");
    pipeline.putArray("exporters").add(f.section().equals("exporters") ? "c" : "x");
    if (f.section().equals("processors")) {
      pipeline.putArray("processors").add("c");
    }
    return root;
  }

  record Loaded(GatewayConfig config) {
    Object get(String section, String name) {
      return switch (section) {
        case "receivers" -> config.receivers().get(name);
        case "processors" -> config.processors().get(name);
        case "connectors" -> config.connectors().get(name);
        default -> config.exporters().get(name);
      };
    }
  }

  static Loaded load(ObjectNode root) {
    try {
      return new Loaded(Components.BUILT_IN.configLoader(k -> null).parse(MAPPER.writeValueAsString(root),
          Path.of(".")));
    } catch (Exception e) {
      throw new AssertionError(root + ": " + e.getMessage(), e);
    }
  }
}
