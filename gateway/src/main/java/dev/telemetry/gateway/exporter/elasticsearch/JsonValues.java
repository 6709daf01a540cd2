package dev.telemetry.gateway.exporter.elasticsearch;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.telemetry.gateway.otlp.OtlpJson;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import java.io.IOException;
import java.time.Instant;
import java.util.Base64;
import java.util.List;

/** OTLP values and times as JSON, shared by the document mappers. */
final class JsonValues {
  private JsonValues() {
  }

  static void write(JsonGenerator g, AnyValue v) throws IOException {
    switch (v.getValueCase()) {
      case STRING_VALUE -> g.writeString(v.getStringValue());
      case BOOL_VALUE -> g.writeBoolean(v.getBoolValue());
      case INT_VALUE -> g.writeNumber(v.getIntValue());
      case DOUBLE_VALUE -> {
        double d = v.getDoubleValue();
        if (Double.isFinite(d)) {
          g.writeNumber(d);
        } else {
          g.writeString(Double.toString(d));
        }
      }
      case BYTES_VALUE -> g.writeString(Base64.getEncoder().encodeToString(v.getBytesValue().toByteArray()));
      case ARRAY_VALUE -> {
        g.writeStartArray();
        for (AnyValue e : v.getArrayValue().getValuesList()) {
          write(g, e);
        }
        g.writeEndArray();
      }
      case KVLIST_VALUE -> writeObject(g, v.getKvlistValue().getValuesList());
      default -> g.writeNull();
    }
  }

  /** Attributes as one JSON object, keys as they are (dotted keys stay flat under subobjects:false mappings). */
  static void writeObject(JsonGenerator g, List<KeyValue> attributes) throws IOException {
    g.writeStartObject();
    for (KeyValue kv : attributes) {
      g.writeFieldName(kv.getKey());
      write(g, kv.getValue());
    }
    g.writeEndObject();
  }

  /** ISO-8601 with nanoseconds, which Elasticsearch's date_nanos type keeps exactly. */
  static String time(long unixNanos) {
    return Instant.ofEpochSecond(unixNanos / 1_000_000_000L, unixNanos % 1_000_000_000L).toString();
  }

  static String hex(com.google.protobuf.ByteString id) {
    return OtlpJson.toHex(id);
  }

  static String string(AnyValue v) {
    return switch (v.getValueCase()) {
      case STRING_VALUE -> v.getStringValue();
      case BOOL_VALUE -> Boolean.toString(v.getBoolValue());
      case INT_VALUE -> Long.toString(v.getIntValue());
      case DOUBLE_VALUE -> Double.toString(v.getDoubleValue());
      default -> new String(OtlpJson.write(v), java.nio.charset.StandardCharsets.UTF_8);
    };
  }
}
