package dev.telemetry.gateway.exporter.elasticsearch;

import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Elastic Common Schema documents: semantic-convention attributes go to their ECS fields ({@code service.name},
 * {@code host.name}, {@code trace.id}, {@code error.message}, …), the body to {@code message}, severity to
 * {@code log.level} / {@code event.severity}, the scope to {@code log.logger}; every other attribute becomes a
 * {@code labels.*} (strings, booleans) or {@code numeric_labels.*} entry, record attributes winning over resource ones.
 */
final class EcsDocumentMapper implements LogDocumentMapper {
  static final String ECS_VERSION = "8.11.0";

  /** Semantic-convention attribute → ECS field (dotted path). */
  private static final Map<String, String> FIELDS = Map.ofEntries(
      Map.entry("service.name", "service.name"), Map.entry("service.version", "service.version"),
      Map.entry("service.namespace", "service.namespace"), Map.entry("service.instance.id", "service.node.name"),
      Map.entry("deployment.environment.name", "service.environment"),
      Map.entry("deployment.environment", "service.environment"),
      Map.entry("host.name", "host.name"), Map.entry("host.id", "host.id"), Map.entry("host.arch", "host.architecture"),
      Map.entry("os.type", "host.os.platform"), Map.entry("os.description", "host.os.full"),
      Map.entry("process.pid", "process.pid"), Map.entry("process.executable.name", "process.name"),
      Map.entry("process.command_line", "process.command_line"),
      Map.entry("exception.type", "error.type"), Map.entry("exception.message", "error.message"),
      Map.entry("exception.stacktrace", "error.stack_trace"),
      Map.entry("cloud.provider", "cloud.provider"), Map.entry("cloud.region", "cloud.region"),
      Map.entry("cloud.availability_zone", "cloud.availability_zone"), Map.entry("cloud.account.id", "cloud.account.id"),
      Map.entry("container.id", "container.id"), Map.entry("container.name", "container.name"),
      Map.entry("container.image.name", "container.image.name"),
      Map.entry("k8s.namespace.name", "orchestrator.namespace"), Map.entry("k8s.cluster.name", "orchestrator.cluster.name"),
      Map.entry("http.request.method", "http.request.method"),
      Map.entry("http.response.status_code", "http.response.status_code"), Map.entry("url.full", "url.full"),
      Map.entry("user_agent.original", "user_agent.original"), Map.entry("client.address", "client.address"),
      Map.entry("log.file.path", "log.file.path"), Map.entry("event.name", "event.action"));

  @Override
  public byte[] document(ResourceLogs resource, ScopeLogs scope, LogRecord r, DataStreams.Target target) {
    JsonObject doc = new JsonObject();
    long time = r.getTimeUnixNano() != 0 ? r.getTimeUnixNano()
        : r.getObservedTimeUnixNano() != 0 ? r.getObservedTimeUnixNano() : System.currentTimeMillis() * 1_000_000L;
    doc.put("@timestamp", JsonValues.time(time));
    put(doc, "ecs.version", ECS_VERSION);
    if (target.index() == null) { // a plain index carries no data_stream fields
      put(doc, "data_stream.type", "logs");
      put(doc, "data_stream.dataset", target.dataset());
      put(doc, "data_stream.namespace", target.namespace());
      put(doc, "event.dataset", target.dataset());
    }
    if (r.getObservedTimeUnixNano() != 0) {
      put(doc, "event.created", JsonValues.time(r.getObservedTimeUnixNano()));
    }
    if (r.hasBody()) {
      doc.put("message", JsonValues.string(r.getBody()));
    }
    String level = !r.getSeverityText().isEmpty() ? r.getSeverityText() : levelOf(r.getSeverityNumberValue());
    if (level != null) {
      put(doc, "log.level", level);
    }
    if (r.getSeverityNumberValue() != 0) {
      put(doc, "event.severity", r.getSeverityNumberValue());
    }
    if (!scope.getScope().getName().isEmpty()) {
      put(doc, "log.logger", scope.getScope().getName());
    }
    if (!r.getTraceId().isEmpty()) {
      put(doc, "trace.id", JsonValues.hex(r.getTraceId()));
    }
    if (!r.getSpanId().isEmpty()) {
      put(doc, "span.id", JsonValues.hex(r.getSpanId()));
    }
    Map<String, AnyValue> attrs = new LinkedHashMap<>();
    for (KeyValue kv : resource.getResource().getAttributesList()) {
      attrs.put(kv.getKey(), kv.getValue());
    }
    for (KeyValue kv : r.getAttributesList()) {
      attrs.put(kv.getKey(), kv.getValue());
    }
    attrs.remove(DataStreams.DATASET);
    attrs.remove(DataStreams.NAMESPACE);
    attrs.remove(DataStreams.INDEX);
    JsonObject labels = new JsonObject();
    JsonObject numeric = new JsonObject();
    attrs.forEach((k, v) -> {
      String field = FIELDS.get(k);
      if (field != null) {
        put(doc, field, scalar(v));
      } else if (v.hasIntValue() || v.hasDoubleValue()) {
        numeric.put(labelKey(k), v.hasIntValue() ? (Object) v.getIntValue() : (Object) v.getDoubleValue());
      } else {
        labels.put(labelKey(k), JsonValues.string(v));
      }
    });
    if (!labels.isEmpty()) {
      doc.put("labels", labels);
    }
    if (!numeric.isEmpty()) {
      doc.put("numeric_labels", numeric);
    }
    return doc.toBuffer().getBytes();
  }

  /** ECS label keys may not contain dots: {@code app.tier} → {@code app_tier}. */
  static String labelKey(String key) {
    return key.replace('.', '_');
  }

  private static Object scalar(AnyValue v) {
    return switch (v.getValueCase()) {
      case INT_VALUE -> v.getIntValue();
      case DOUBLE_VALUE -> v.getDoubleValue();
      case BOOL_VALUE -> v.getBoolValue();
      default -> JsonValues.string(v);
    };
  }

  /** Puts a value at a dotted path, creating the objects on the way ({@code a.b.c} → {"a":{"b":{"c":…}}}). */
  static void put(JsonObject doc, String path, Object value) {
    String[] parts = path.split("\\.");
    JsonObject o = doc;
    for (int i = 0; i < parts.length - 1; i++) {
      JsonObject next = o.getJsonObject(parts[i]);
      if (next == null) {
        next = new JsonObject();
        o.put(parts[i], next);
      }
      o = next;
    }
    o.put(parts[parts.length - 1], value);
  }

  /** The OTLP severity-number ranges, as ECS level words. */
  static String levelOf(int severityNumber) {
    if (severityNumber <= 0) {
      return null;
    }
    String[] names = {"trace", "debug", "info", "warn", "error", "fatal"};
    return names[Math.min(5, (severityNumber - 1) / 4)];
  }

  @Override
  public JsonObject mappings() {
    JsonObject keyword = new JsonObject().put("type", "keyword").put("ignore_above", 1024);
    JsonObject props = new JsonObject();
    for (String field : new String[] {"ecs.version", "data_stream.type", "data_stream.dataset", "data_stream.namespace",
        "event.dataset", "log.level", "log.logger", "trace.id", "span.id", "service.name", "service.version",
        "service.namespace", "service.node.name", "service.environment", "host.name", "host.id", "host.architecture",
        "host.os.platform", "error.type", "process.name", "cloud.provider", "cloud.region", "container.id",
        "container.name", "orchestrator.namespace", "http.request.method", "event.action"}) {
      put(props, properties(field), keyword);
    }
    put(props, properties("@timestamp"), new JsonObject().put("type", "date_nanos"));
    put(props, properties("event.created"), new JsonObject().put("type", "date_nanos"));
    put(props, properties("event.severity"), new JsonObject().put("type", "long"));
    put(props, properties("process.pid"), new JsonObject().put("type", "long"));
    put(props, properties("http.response.status_code"), new JsonObject().put("type", "long"));
    put(props, properties("message"), new JsonObject().put("type", "text"));
    put(props, properties("error.message"), new JsonObject().put("type", "text"));
    put(props, properties("error.stack_trace"), new JsonObject().put("type", "text").put("index", false));
    put(props, properties("labels"), new JsonObject().put("type", "object"));
    put(props, properties("numeric_labels"), new JsonObject().put("type", "object"));
    return new JsonObject()
        .put("dynamic_templates", new JsonArray()
            .add(new JsonObject().put("labels_as_keyword", new JsonObject().put("path_match", "labels.*")
                .put("mapping", new JsonObject().put("type", "keyword").put("ignore_above", 1024))))
            .add(new JsonObject().put("numeric_labels_as_double", new JsonObject().put("path_match", "numeric_labels.*")
                .put("mapping", new JsonObject().put("type", "double"))))
            .add(new JsonObject().put("strings_as_keyword", new JsonObject().put("match_mapping_type", "string")
                .put("mapping", keyword))))
        .put("properties", props.getJsonObject("properties"));
  }

  /** {@code a.b} → {@code properties.a.properties.b}, the nesting index mappings use. */
  private static String properties(String field) {
    return "properties." + field.replace(".", ".properties.");
  }
}
