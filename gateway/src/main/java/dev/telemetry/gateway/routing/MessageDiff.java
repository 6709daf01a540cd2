package dev.telemetry.gateway.routing;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a processor changed in an item, as a list of {@code {field, now}} entries (attributes by key). The old value
 * is deliberately not shown: explain answers often go into tickets, and the old value is the PII.
 */
final class MessageDiff {
  private MessageDiff() {
  }

  static JsonArray changes(Message before, Message after) {
    JsonArray out = new JsonArray();
    diff(before, after, "", out);
    return out;
  }

  private static void diff(Message a, Message b, String path, JsonArray out) {
    if (a.equals(b)) {
      return;
    }
    for (FieldDescriptor f : a.getDescriptorForType().getFields()) {
      String p = path.isEmpty() ? f.getName() : path + "." + f.getName();
      if (f.isRepeated()) {
        if (f.getJavaType() == FieldDescriptor.JavaType.MESSAGE
            && f.getMessageType().equals(KeyValue.getDescriptor())) {
          attributes(cast(a.getField(f)), cast(b.getField(f)), p, out);
        } else {
          int n = Math.max(a.getRepeatedFieldCount(f), b.getRepeatedFieldCount(f));
          for (int i = 0; i < n; i++) {
            Object x = i < a.getRepeatedFieldCount(f) ? a.getRepeatedField(f, i) : null;
            Object y = i < b.getRepeatedFieldCount(f) ? b.getRepeatedField(f, i) : null;
            value(x, y, p + "[" + i + "]", out);
          }
        }
      } else {
        value(a.getField(f), b.getField(f), p, out);
      }
    }
  }

  private static void value(Object x, Object y, String p, JsonArray out) {
    if (java.util.Objects.equals(x, y)) {
      return;
    }
    if (x instanceof AnyValue || y instanceof AnyValue) {
      out.add(new JsonObject().put("field", p).put("now", y == null ? null : text((AnyValue) y)));
    } else if (x instanceof Message mx && y instanceof Message my) {
      diff(mx, my, p, out);
    } else {
      out.add(new JsonObject().put("field", p).put("now", y == null ? null : String.valueOf(y)));
    }
  }

  private static void attributes(List<KeyValue> a, List<KeyValue> b, String p, JsonArray out) {
    Map<String, AnyValue> after = new LinkedHashMap<>();
    b.forEach(kv -> after.put(kv.getKey(), kv.getValue()));
    for (KeyValue kv : a) {
      String field = p + "[\"" + kv.getKey() + "\"]";
      AnyValue now = after.get(kv.getKey());
      if (now == null) {
        out.add(new JsonObject().put("field", field).put("now", null).put("removed", true));
      } else if (!now.equals(kv.getValue())) {
        out.add(new JsonObject().put("field", field).put("now", text(now)));
      }
    }
  }

  private static String text(AnyValue v) {
    String t = MatchContext.text(v);
    return t == MatchContext.NON_SCALAR ? v.toString().trim() : t;
  }

  @SuppressWarnings("unchecked")
  private static List<KeyValue> cast(Object o) {
    return (List<KeyValue>) o;
  }
}
