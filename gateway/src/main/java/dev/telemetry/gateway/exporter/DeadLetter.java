package dev.telemetry.gateway.exporter;

import dev.telemetry.gateway.otlp.Signal;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

/**
 * One line of a dead-letter file, the same shape whoever gave the data up: when, which exporter and signal, why
 * ({@code reason}: the metrics' reason tag), what the backend said ({@code error}: message, and where known its type
 * and HTTP status), how many items, and the data itself — a whole batch as an OTLP/JSON {@code request} (exporter
 * queues), or one {@code document} with its {@code index} (Elasticsearch's per-document rejections). The payload is
 * spliced in as the JSON it already is, never parsed again.
 */
public record DeadLetter(String exporter, Signal signal, String reason, String errorMessage, String errorType,
                         Integer status, int items) {

  /** A batch given up whole; {@code otlpJson} is its OTLP/JSON export request. */
  public byte[] withRequest(byte[] otlpJson) {
    return line(head(), "request", otlpJson);
  }

  /** One document a backend refused; {@code documentJson} is the document as it was sent. */
  public byte[] withDocument(String index, byte[] documentJson) {
    return line(head().put("index", index), "document", documentJson);
  }

  private JsonObject head() {
    JsonObject error = new JsonObject().put("message", errorMessage);
    if (errorType != null) {
      error.put("type", errorType);
    }
    if (status != null) {
      error.put("status", status);
    }
    return new JsonObject().put("time", Instant.now().toString()).put("exporter", exporter)
        .put("signal", signal.id()).put("reason", reason).put("error", error).put("items", items);
  }

  /** {@code head} with {@code "key": payload} appended, as one line of JSON. */
  private static byte[] line(JsonObject head, String key, byte[] payload) {
    String prefix = head.encode();
    byte[] start = (prefix.substring(0, prefix.length() - 1) + ",\"" + key + "\":")
        .getBytes(StandardCharsets.UTF_8);
    byte[] line = java.util.Arrays.copyOf(start, start.length + payload.length + 1);
    System.arraycopy(payload, 0, line, start.length, payload.length);
    line[line.length - 1] = '}';
    return line;
  }
}
