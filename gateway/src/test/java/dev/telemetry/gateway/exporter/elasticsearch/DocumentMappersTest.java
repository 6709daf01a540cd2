package dev.telemetry.gateway.exporter.elasticsearch;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.InstrumentationScope;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.opentelemetry.proto.logs.v1.SeverityNumber;
import io.opentelemetry.proto.resource.v1.Resource;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

class DocumentMappersTest {
  static KeyValue kv(String k, AnyValue v) {
    return KeyValue.newBuilder().setKey(k).setValue(v).build();
  }

  static AnyValue s(String v) {
    return AnyValue.newBuilder().setStringValue(v).build();
  }

  static final ResourceLogs RESOURCE = ResourceLogs.newBuilder().setResource(Resource.newBuilder()
      .addAttributes(kv("service.name", s("api"))).addAttributes(kv("host.name", s("node-1")))
      .addAttributes(kv("data_stream.namespace", s("Team-A")))).build();
  static final ScopeLogs SCOPE = ScopeLogs.newBuilder().setScope(InstrumentationScope.newBuilder().setName("lib")
      .setVersion("2")).build();
  static final LogRecord RECORD = LogRecord.newBuilder().setTimeUnixNano(1_700_000_000_123_456_789L)
      .setSeverityNumber(SeverityNumber.SEVERITY_NUMBER_WARN2).setBody(s("disk almost full"))
      .setTraceId(ByteString.fromHex("0af7651916cd43dd8448eb211c80319c")).setSpanId(ByteString.fromHex("b7ad6b7169203331"))
      .addAttributes(kv("http.request.method", s("GET"))).addAttributes(kv("retries", AnyValue.newBuilder().setIntValue(3).build()))
      .addAttributes(kv("app.tier", s("gold"))).addAttributes(kv("exception.message", s("boom"))).build();

  @Test
  void dataStreamsComeFromRecordThenResourceThenDefaultsAndAreSanitized() {
    DataStreams.Target t = DataStreams.resolve(RECORD.getAttributesList(), RESOURCE.getResource().getAttributesList(),
        "generic", "default");
    assertThat(t.name()).isEqualTo("logs-generic-team_a");
    assertThat(DataStreams.sanitize("_My App/v2")).isEqualTo("my_app_v2");
  }

  @Test
  void otelDocumentKeepsOtlpFieldNames() {
    JsonObject d = new JsonObject(Buffer.buffer(new OtelDocumentMapper().document(RESOURCE, SCOPE, RECORD,
        new DataStreams.Target("generic", "team_a"))));
    assertThat(d.getString("@timestamp")).isEqualTo("2023-11-14T22:13:20.123456789Z");
    assertThat(d.getInteger("severity_number")).isEqualTo(14);
    assertThat(d.getJsonObject("body").getString("text")).isEqualTo("disk almost full");
    assertThat(d.getJsonObject("attributes").getString("http.request.method")).isEqualTo("GET");
    assertThat(d.getJsonObject("attributes").getLong("retries")).isEqualTo(3);
    assertThat(d.getString("trace_id")).isEqualTo("0af7651916cd43dd8448eb211c80319c");
    assertThat(d.getString("span_id")).isEqualTo("b7ad6b7169203331");
    assertThat(d.getJsonObject("scope")).isEqualTo(new JsonObject().put("name", "lib").put("version", "2"));
    assertThat(d.getJsonObject("resource").getJsonObject("attributes").getString("host.name")).isEqualTo("node-1");
  }

  @Test
  void ecsDocumentMapsSemanticConventions() {
    JsonObject d = new JsonObject(Buffer.buffer(new EcsDocumentMapper().document(RESOURCE, SCOPE, RECORD,
        new DataStreams.Target("generic", "team_a"))));
    assertThat(d.getString("message")).isEqualTo("disk almost full");
    assertThat(d.getJsonObject("log")).isEqualTo(new JsonObject().put("level", "warn").put("logger", "lib"));
    assertThat(d.getJsonObject("service").getString("name")).isEqualTo("api");
    assertThat(d.getJsonObject("host").getString("name")).isEqualTo("node-1");
    assertThat(d.getJsonObject("trace").getString("id")).isEqualTo("0af7651916cd43dd8448eb211c80319c");
    assertThat(d.getJsonObject("http").getJsonObject("request").getString("method")).isEqualTo("GET");
    assertThat(d.getJsonObject("error").getString("message")).isEqualTo("boom");
    assertThat(d.getJsonObject("labels")).isEqualTo(new JsonObject().put("app_tier", "gold"));
    assertThat(d.getJsonObject("numeric_labels")).isEqualTo(new JsonObject().put("retries", 3));
    assertThat(d.getJsonObject("data_stream").getString("namespace")).isEqualTo("team_a");
    assertThat(d.containsKey("data_stream.namespace")).isFalse();
  }

  @Test
  void severityNumbersMapToEcsLevels() {
    assertThat(List.of(1, 5, 9, 13, 17, 21, 24).stream().map(EcsDocumentMapper::levelOf).toList())
        .containsExactly("trace", "debug", "info", "warn", "error", "fatal", "fatal");
    assertThat(EcsDocumentMapper.levelOf(0)).isNull();
  }
}
