package dev.telemetry.gateway.exporter.elasticsearch;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * OpenTelemetry-native documents: the log record's own field names ({@code @timestamp}, {@code observed_timestamp},
 * {@code severity_text}, {@code severity_number}, {@code body.text} or {@code body.structured},
 * {@code attributes.*}, {@code resource.attributes.*}, {@code scope.*}, {@code trace_id}, {@code span_id}).
 * Attribute keys stay dotted and flat ({@code subobjects: false}), so {@code http.method} and {@code http} never
 * collide.
 */
final class OtelDocumentMapper implements LogDocumentMapper {
  private static final JsonFactory JSON = new JsonFactory();

  @Override
  public byte[] document(ResourceLogs resource, ScopeLogs scope, LogRecord r, DataStreams.Target target) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(512);
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.writeStartObject();
      long time = r.getTimeUnixNano() != 0 ? r.getTimeUnixNano()
          : r.getObservedTimeUnixNano() != 0 ? r.getObservedTimeUnixNano() : System.currentTimeMillis() * 1_000_000L;
      g.writeStringField("@timestamp", JsonValues.time(time));
      if (r.getObservedTimeUnixNano() != 0) {
        g.writeStringField("observed_timestamp", JsonValues.time(r.getObservedTimeUnixNano()));
      }
      if (target.index() == null) { // a plain index carries no data_stream fields
        g.writeObjectFieldStart("data_stream");
        g.writeStringField("type", "logs");
        g.writeStringField("dataset", target.dataset());
        g.writeStringField("namespace", target.namespace());
        g.writeEndObject();
      }
      if (!r.getSeverityText().isEmpty()) {
        g.writeStringField("severity_text", r.getSeverityText());
      }
      if (r.getSeverityNumberValue() != 0) {
        g.writeNumberField("severity_number", r.getSeverityNumberValue());
      }
      if (r.hasBody()) {
        g.writeObjectFieldStart("body");
        AnyValue body = r.getBody();
        if (body.hasKvlistValue() || body.hasArrayValue()) {
          g.writeFieldName("structured");
          JsonValues.write(g, body);
        } else {
          g.writeStringField("text", JsonValues.string(body));
        }
        g.writeEndObject();
      }
      if (r.getAttributesCount() > 0) {
        g.writeFieldName("attributes");
        JsonValues.writeObject(g, r.getAttributesList());
      }
      if (r.getDroppedAttributesCount() > 0) {
        g.writeNumberField("dropped_attributes_count", r.getDroppedAttributesCount());
      }
      if (!r.getTraceId().isEmpty()) {
        g.writeStringField("trace_id", JsonValues.hex(r.getTraceId()));
      }
      if (!r.getSpanId().isEmpty()) {
        g.writeStringField("span_id", JsonValues.hex(r.getSpanId()));
      }
      if (r.getFlags() != 0) {
        g.writeNumberField("flags", Integer.toUnsignedLong(r.getFlags()));
      }
      if (!r.getEventName().isEmpty()) {
        g.writeStringField("event_name", r.getEventName());
      }
      g.writeObjectFieldStart("resource");
      g.writeFieldName("attributes");
      JsonValues.writeObject(g, resource.getResource().getAttributesList());
      if (!resource.getSchemaUrl().isEmpty()) {
        g.writeStringField("schema_url", resource.getSchemaUrl());
      }
      g.writeEndObject();
      if (!scope.getScope().getName().isEmpty() || !scope.getScope().getVersion().isEmpty()
          || scope.getScope().getAttributesCount() > 0) {
        g.writeObjectFieldStart("scope");
        if (!scope.getScope().getName().isEmpty()) {
          g.writeStringField("name", scope.getScope().getName());
        }
        if (!scope.getScope().getVersion().isEmpty()) {
          g.writeStringField("version", scope.getScope().getVersion());
        }
        if (scope.getScope().getAttributesCount() > 0) {
          g.writeFieldName("attributes");
          JsonValues.writeObject(g, scope.getScope().getAttributesList());
        }
        g.writeEndObject();
      }
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  @Override
  public JsonObject mappings() {
    JsonObject flat = new JsonObject().put("type", "object").put("subobjects", false);
    JsonObject keyword = new JsonObject().put("type", "keyword");
    return new JsonObject()
        .put("dynamic_templates", new JsonArray().add(new JsonObject().put("strings_as_keyword", new JsonObject()
            .put("match_mapping_type", "string")
            .put("mapping", new JsonObject().put("type", "keyword").put("ignore_above", 1024)))))
        .put("properties", new JsonObject()
            .put("@timestamp", new JsonObject().put("type", "date_nanos"))
            .put("observed_timestamp", new JsonObject().put("type", "date_nanos"))
            .put("data_stream", new JsonObject().put("properties", new JsonObject()
                .put("type", keyword).put("dataset", keyword).put("namespace", keyword)))
            .put("severity_text", keyword)
            .put("severity_number", new JsonObject().put("type", "byte"))
            .put("body", new JsonObject().put("properties", new JsonObject()
                .put("text", new JsonObject().put("type", "text"))
                .put("structured", new JsonObject().put("type", "flattened"))))
            .put("attributes", flat)
            .put("dropped_attributes_count", new JsonObject().put("type", "long"))
            .put("trace_id", keyword)
            .put("span_id", keyword)
            .put("flags", new JsonObject().put("type", "long"))
            .put("event_name", keyword)
            .put("resource", new JsonObject().put("properties", new JsonObject()
                .put("attributes", flat).put("schema_url", keyword)))
            .put("scope", new JsonObject().put("properties", new JsonObject()
                .put("name", keyword).put("version", keyword).put("attributes", flat))));
  }
}
