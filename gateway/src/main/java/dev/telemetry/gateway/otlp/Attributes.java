package dev.telemetry.gateway.otlp;

import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import java.util.List;

/** Reading and writing OTLP attributes as metric labels. */
public final class Attributes {
  private Attributes() {
  }

  /** An attribute's value as a label: strings as they are, other scalars printed; absent or not scalar: null. */
  public static String label(List<KeyValue> attrs, String key) {
    for (int i = 0, n = attrs.size(); i < n; i++) {
      KeyValue kv = attrs.get(i);
      if (kv.getKey().equals(key)) {
        AnyValue v = kv.getValue();
        return switch (v.getValueCase()) {
          case STRING_VALUE -> v.getStringValue();
          case BOOL_VALUE -> String.valueOf(v.getBoolValue());
          case INT_VALUE -> String.valueOf(v.getIntValue());
          case DOUBLE_VALUE -> String.valueOf(v.getDoubleValue());
          default -> null;
        };
      }
    }
    return null;
  }

  /** The first of {@code keys} present, as a label; null if none is. */
  public static String label(List<KeyValue> attrs, String... keys) {
    for (String k : keys) {
      String v = label(attrs, k);
      if (v != null) {
        return v;
      }
    }
    return null;
  }

  /** An integer attribute (ints, integral doubles or digit strings); {@code -1} when absent or not a count. */
  public static long count(List<KeyValue> attrs, String key) {
    for (int i = 0, n = attrs.size(); i < n; i++) {
      KeyValue kv = attrs.get(i);
      if (kv.getKey().equals(key)) {
        AnyValue v = kv.getValue();
        return switch (v.getValueCase()) {
          case INT_VALUE -> v.getIntValue() >= 0 ? v.getIntValue() : -1;
          case DOUBLE_VALUE -> v.getDoubleValue() >= 0 && v.getDoubleValue() == Math.rint(v.getDoubleValue())
              ? (long) v.getDoubleValue() : -1;
          case STRING_VALUE -> {
            try {
              long parsed = Long.parseLong(v.getStringValue().trim());
              yield parsed >= 0 ? parsed : -1;
            } catch (NumberFormatException e) {
              yield -1;
            }
          }
          default -> -1;
        };
      }
    }
    return -1;
  }

  public static KeyValue string(String key, String value) {
    return KeyValue.newBuilder().setKey(key).setValue(AnyValue.newBuilder().setStringValue(value)).build();
  }
}
