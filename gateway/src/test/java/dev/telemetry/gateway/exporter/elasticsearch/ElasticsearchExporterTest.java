package dev.telemetry.gateway.exporter.elasticsearch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.telemetry.gateway.config.BatchConfig;
import dev.telemetry.gateway.exporter.elasticsearch.ElasticsearchExporterConfig;
import dev.telemetry.gateway.config.QueueConfig;
import dev.telemetry.gateway.config.RetryConfig;
import dev.telemetry.gateway.exporter.ExportException;
import dev.telemetry.gateway.exporter.ExportResult;
import dev.telemetry.gateway.testing.Ports;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Per-item bulk outcomes against a scripted {@code _bulk} endpoint (a real Elasticsearch cannot be made to answer
 * 429 for one item on demand): 429/5xx items are resent alone, 4xx items are dead-lettered, with both transports.
 */
class ElasticsearchExporterTest {
  final Vertx vertx = Vertx.vertx();
  final int port = Ports.free();
  final List<List<String>> bulkBodies = new CopyOnWriteArrayList<>();
  final List<String> paths = new CopyOnWriteArrayList<>();
  final List<String> authorization = new CopyOnWriteArrayList<>();
  @TempDir
  Path tmp;
  Context context;

  @BeforeEach
  void start() throws Exception {
    vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(body -> {
      paths.add(req.method() + " " + req.path());
      authorization.add(String.valueOf(req.getHeader("Authorization")));
      req.response().putHeader("Content-Type", "application/json").putHeader("X-Elastic-Product", "Elasticsearch");
      if (req.path().startsWith("/_index_template")) {
        req.response().end("{\"acknowledged\":true}");
        return;
      }
      List<String> lines = new ArrayList<>();
      for (String l : body.toString().split("\n")) {
        if (!l.isBlank()) {
          lines.add(l);
        }
      }
      bulkBodies.add(lines);
      JsonArray items = new JsonArray();
      for (int i = 1; i < lines.size(); i += 2) {
        String doc = lines.get(i);
        int status = bulkBodies.size() == 1 && doc.contains("\"second\"") ? 429
            : doc.contains("\"third\"") ? 400 : 201;
        JsonObject item = new JsonObject().put("_index", "logs-generic-default").put("status", status);
        if (status == 400) {
          item.put("error", new JsonObject().put("type", "document_parsing_exception").put("reason", "bad field"));
        } else if (status == 429) {
          item.put("error", new JsonObject().put("type", "es_rejected_execution_exception").put("reason", "busy"));
        }
        items.add(new JsonObject().put("create", item));
      }
      req.response().end(new JsonObject().put("took", 1).put("errors", true).put("items", items).encode());
    })).listen(port, "127.0.0.1").await(10, TimeUnit.SECONDS);
    context = vertx.getOrCreateContext(); // from the test thread: a new event-loop context
  }

  @AfterEach
  void stop() {
    vertx.close().await();
  }

  <T> T on(Supplier<Future<T>> call) throws Exception {
    Promise<T> p = Promise.promise();
    context.runOnContext(v -> call.get().onComplete(p));
    return p.future().await(20, TimeUnit.SECONDS);
  }

  static ExportLogsServiceRequest logs(String... bodies) {
    ScopeLogs.Builder s = ScopeLogs.newBuilder();
    for (String b : bodies) {
      s.addLogRecords(LogRecord.newBuilder().setTimeUnixNano(1_700_000_000_000_000_000L)
          .setBody(AnyValue.newBuilder().setStringValue(b)));
    }
    return ExportLogsServiceRequest.newBuilder().addResourceLogs(ResourceLogs.newBuilder().addScopeLogs(s)).build();
  }

  @ParameterizedTest
  @EnumSource(ElasticsearchExporterConfig.Transport.class)
  void retriesOnlyThrottledItemsAndDeadLettersRejectedOnes(ElasticsearchExporterConfig.Transport transport)
      throws Exception {
    Path dlq = tmp.resolve("dlq.jsonl");
    ElasticsearchExporterConfig config = new ElasticsearchExporterConfig("es", List.of(URI.create("http://127.0.0.1:"
        + port)), ElasticsearchExporterConfig.Mapping.OTEL, "generic", "default",
        new ElasticsearchExporterConfig.Auth(null, "gateway", "s3cret"),
        ElasticsearchExporterConfig.Tls.DEFAULTS, transport, Duration.ofSeconds(5), dlq, true, "logs-*-*", 200,
        QueueConfig.DEFAULTS, BatchConfig.DEFAULTS, RetryConfig.DEFAULTS);
    ElasticsearchExporter exporter = new ElasticsearchExporter(vertx, config, new SimpleMeterRegistry());
    on(exporter::start);
    ExportLogsServiceRequest request = logs("first", "second", "third");
    assertThatThrownBy(() -> on(() -> exporter.export(request, 3)))
        .isInstanceOfSatisfying(ExportException.class, e -> {
          assertThat(e.retryable()).isTrue();
          assertThat(e.getMessage()).contains("1 documents answered 429/5xx");
        });
    assertThat(Files.readAllLines(dlq)).singleElement().satisfies(line -> {
      JsonObject l = new JsonObject(line);
      assertThat(l.getString("reason")).isEqualTo("rejected_by_backend");
      assertThat(l.getJsonObject("error").getInteger("status")).isEqualTo(400);
      assertThat(l.getJsonObject("error").getString("message")).isEqualTo("bad field");
      assertThat(l.getJsonObject("document").getJsonObject("body").getString("text")).isEqualTo("third");
    });
    ExportResult second = on(() -> exporter.export(request, 3)); // the queue's retry: same request instance
    assertThat(second.rejected()).isZero();
    assertThat(bulkBodies).hasSize(2);
    assertThat(bulkBodies.get(0)).hasSize(6);
    assertThat(bulkBodies.get(1)).hasSize(2); // only "second" was sent again
    assertThat(bulkBodies.get(1).get(0)).contains("\"create\"").contains("logs-generic-default");
    assertThat(bulkBodies.get(1).get(1)).contains("\"second\"");
    assertThat(Files.readAllLines(dlq)).hasSize(1);
    assertThat(paths.get(0)).isEqualTo("PUT /_index_template/telemetry-gateway-es");
    assertThat(authorization).hasSize(3).containsOnly("Basic Z2F0ZXdheTpzM2NyZXQ="); // gateway:s3cret
    on(exporter::stop);
  }
}
