package dev.telemetry.gateway.exporter.elasticsearch;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.protobuf.InvalidProtocolBufferException;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Both Elasticsearch document mappers (ECS and OTel-native) on every record of any decodable logs request: each
 * document is one JSON object, and the data stream or index it is sent to is a name Elasticsearch accepts (lower
 * case, no reserved characters or leading {@code _ - +}, at most 255 bytes) — a bad name fails the bulk item.
 */
class DocumentMapperFuzzTest {
  private static final EcsDocumentMapper ECS = new EcsDocumentMapper();
  private static final OtelDocumentMapper OTEL = new OtelDocumentMapper();

  @FuzzTest(maxDuration = "5m")
  void map(byte[] body) {
    ExportLogsServiceRequest request;
    try {
      request = ExportLogsServiceRequest.parseFrom(body);
    } catch (InvalidProtocolBufferException expected) {
      return;
    }
    for (ResourceLogs rl : request.getResourceLogsList()) {
      for (ScopeLogs sl : rl.getScopeLogsList()) {
        for (LogRecord r : sl.getLogRecordsList()) {
          DataStreams.Target target = DataStreams.resolve(r.getAttributesList(),
              rl.getResource().getAttributesList(), "generic", "default");
          checkName(target.name());
          assertThat(new JsonObject(Buffer.buffer(ECS.document(rl, sl, r, target)))).isNotNull();
          assertThat(new JsonObject(Buffer.buffer(OTEL.document(rl, sl, r, target)))).isNotNull();
        }
      }
    }
  }

  static void checkName(String name) {
    assertThat(name).isEqualTo(name.toLowerCase(Locale.ROOT));
    assertThat(name).doesNotContainAnyWhitespaces();
    for (char c : "\\/*?\"<>|,#:".toCharArray()) {
      assertThat(name).doesNotContain(String.valueOf(c));
    }
    assertThat(name).doesNotStartWith("_").doesNotStartWith("-").doesNotStartWith("+").isNotIn(".", "..");
    assertThat(name.getBytes(StandardCharsets.UTF_8).length).as(name).isLessThanOrEqualTo(255);
  }
}
