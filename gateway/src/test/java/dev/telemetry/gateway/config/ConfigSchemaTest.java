package dev.telemetry.gateway.config;

import dev.telemetry.gateway.component.Components;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.io.IOException;
import java.nio.file.Files;
import dev.telemetry.gateway.Gateway;
import dev.telemetry.gateway.routing.RoutesFile;
import dev.telemetry.gateway.routing.RoutingTable;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/** The published JSON Schema accepts every shipped config and is as strict as the loader about unknown keys. */
class ConfigSchemaTest {
  static final Path ROOT = Path.of(System.getProperty("gateway.repo.root", ".."));
  static final ObjectMapper MAPPER = new ObjectMapper();

  static JsonSchema schema() throws IOException {
    return JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012)
        .getSchema(MAPPER.readTree(ROOT.resolve("config/gateway.schema.json").toFile()));
  }

  static Stream<Path> shippedConfigs() throws IOException {
    Stream<Path> examples = Files.list(ROOT.resolve("config/examples")).filter(p -> p.toString().endsWith(".json"));
    return Stream.concat(Stream.of(ROOT.resolve("config/gateway.json")), examples);
  }

  @ParameterizedTest
  @MethodSource("shippedConfigs")
  void shippedConfigsMatchTheSchemaAndLoad(Path config) throws Exception {
    Set<ValidationMessage> errors = schema().validate(MAPPER.readTree(config.toFile()));
    assertThat(errors).as(config.toString()).isEmpty();
    // Secrets have no defaults in the examples; everything else must load from the file alone.
    loadExample(config);
  }

  static GatewayConfig loadExample(Path config) throws Exception {
    return Components.BUILT_IN.configLoader(Map.of("ELASTICSEARCH_API_KEY", "example-key", "REDACTION_HASH_KEY",
        "example-hash-key-0123456789", "GATEWAY_ADMIN_TOKEN", "example-admin-token-0123456789")::get).load(config);
  }

  static JsonSchema routesSchema() throws IOException {
    return JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012)
        .getSchema(MAPPER.readTree(ROOT.resolve("config/routes.schema.json").toFile()));
  }

  /** The example routing table matches its schema and validates against the example gateway config it goes with. */
  @Test
  void exampleRoutingTableMatchesTheSchemaAndTheExampleGateway() throws Exception {
    Path routes = ROOT.resolve("config/examples/routing/routes.json");
    assertThat(routesSchema().validate(MAPPER.readTree(routes.toFile()))).isEmpty();
    GatewayConfig gateway = loadExample(ROOT.resolve("config/examples/jaeger-prometheus-elasticsearch.json"));
    assertThat(gateway.routingConfig()).isPresent();
    RoutingTable table = RoutesFile.check(routes, Gateway.catalog(gateway));
    assertThat(table.rules()).hasSize(7);
  }

  /** The anomaly example's routing table and its remediation's pre-approved table validate against that config. */
  @Test
  void anomalyExampleTablesMatchTheSchemaAndTheExampleGateway() throws Exception {
    GatewayConfig gateway = loadExample(ROOT.resolve("config/examples/anomaly.json"));
    assertThat(gateway.remediationsConfig().orElseThrow().actions()).hasSize(2);
    for (String name : new String[] {"routes.json", "routes-shed-debug.json"}) {
      Path table = ROOT.resolve("config/examples/anomaly/" + name);
      assertThat(routesSchema().validate(MAPPER.readTree(table.toFile()))).as(name).isEmpty();
      assertThat(RoutesFile.check(table, Gateway.catalog(gateway)).rules()).as(name).isNotEmpty();
    }
  }

  /** The example SLO file matches its schema and validates against the example gateway config it goes with. */
  @Test
  void exampleSloFileMatchesItsSchemaAndLoads() throws Exception {
    JsonSchema slos = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012)
        .getSchema(MAPPER.readTree(ROOT.resolve("config/slos.schema.json").toFile()));
    Path file = ROOT.resolve("config/examples/slo/slos.json");
    assertThat(slos.validate(MAPPER.readTree(file.toFile()))).isEmpty();
    GatewayConfig gateway = loadExample(ROOT.resolve("config/examples/analytics.json"));
    assertThat(dev.telemetry.gateway.analytics.slo.SloService.check(file, Gateway.sloCatalog(gateway))).hasSize(3);
    assertThat(slos.validate(MAPPER.readTree("""
        {"slos": [{"name": "x y", "service": "s", "objective": 100, "window": "30 days",
                   "sli": {"type": "latency"}}]}"""))).hasSizeGreaterThanOrEqualTo(4);
  }

  /** The example price table matches its schema; the schema rejects what the loader rejects. */
  @Test
  void examplePriceTableMatchesItsSchema() throws Exception {
    JsonSchema prices = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012)
        .getSchema(MAPPER.readTree(ROOT.resolve("config/prices.schema.json").toFile()));
    assertThat(prices.validate(MAPPER.readTree(ROOT.resolve("config/examples/genai/prices.json").toFile())))
        .isEmpty();
    assertThat(prices.validate(MAPPER.readTree("""
        {"prices": [{"provider": "openai", "model": "gpt-4o", "input_per_million": -1, "colour": "red"}]}""")))
        .hasSize(3); // negative price, unknown key, output price missing
  }

  @Test
  void routesSchemaRejectsMistakes() throws Exception {
    JsonNode bad = MAPPER.readTree("""
        {"rules": [{"id": "default", "match": {"colour": "red"}, "exporters": []},
                   {"id": "x", "match": {"resource": {"a": {"equals": 1, "in": [1]}}},
                    "elasticsearch": {"index": "i", "dataset": "d"}}]}""");
    assertThat(routesSchema().validate(bad)).hasSizeGreaterThanOrEqualTo(4);
  }

  @Test
  void schemaRejectsUnknownKeysAndTypes() throws Exception {
    JsonNode bad = MAPPER.readTree("""
        {"receivers": {"otlp": {"type": "otlp", "grpcc": {}}},
         "exporters": {"x": {"type": "zipkin"}},
         "pipelines": {"traces": {"receivers": ["otlp"], "exporters": ["x"]}}}""");
    assertThat(schema().validate(bad)).hasSizeGreaterThanOrEqualTo(2);
  }
}
