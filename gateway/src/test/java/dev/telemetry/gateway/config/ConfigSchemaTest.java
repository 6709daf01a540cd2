package dev.telemetry.gateway.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.io.IOException;
import java.nio.file.Files;
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
    new ConfigLoader(Map.of("ELASTICSEARCH_API_KEY", "example-key")::get).load(config);
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
