package dev.telemetry.gateway.otlp;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import com.google.protobuf.MessageOrBuilder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The OTLP/JSON mapping (OTLP spec, "JSON Protobuf Encoding"): proto3 JSON with three differences — trace and span
 * IDs are hex strings rather than base64, enums are integers, and field names are lowerCamelCase (the original
 * snake_case names are accepted too). 64-bit integers are written as decimal strings and read from strings or
 * numbers; unknown fields are ignored.
 *
 * <p>Driven by the protobuf descriptors, so it covers every OTLP message (and google.rpc.Status) without
 * per-type code; generic reflection is slower than generated code, which is why protobuf stays the hot path.
 */
public final class OtlpJson {

  private static final JsonFactory FACTORY = JsonFactory.builder()
      .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(256).build())
      .build();

  /** Per message type: JSON field name (lowerCamelCase and snake_case) to field. */
  private static final Map<Descriptor, Map<String, FieldDescriptor>> FIELDS = new ConcurrentHashMap<>();

  private OtlpJson() {
  }

  /** Parses a whole JSON document into the given (empty) builder's message type. */
  public static Message parse(byte[] json, Message.Builder builder) throws OtlpJsonException {
    try (JsonParser p = FACTORY.createParser(json)) {
      JsonToken t = p.nextToken();
      if (t != JsonToken.START_OBJECT) {
        throw new OtlpJsonException("", "expected a JSON object at the top level, found " + describe(t));
      }
      readMessage(p, builder);
      if (p.nextToken() != null) {
        throw new OtlpJsonException("", "unexpected content after the top-level object");
      }
      return builder.build();
    } catch (JsonParseException e) {
      throw new OtlpJsonException("", "invalid JSON: " + e.getOriginalMessage() + " at line "
          + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr());
    } catch (IOException e) {
      throw new OtlpJsonException("", "invalid JSON: " + e.getMessage());
    }
  }

  private static Map<String, FieldDescriptor> fields(Descriptor d) {
    return FIELDS.computeIfAbsent(d, desc -> {
      Map<String, FieldDescriptor> m = new HashMap<>();
      for (FieldDescriptor f : desc.getFields()) {
        m.put(f.getName(), f);
        m.put(f.getJsonName(), f);
      }
      return m;
    });
  }

  private static void readMessage(JsonParser p, Message.Builder b) throws IOException, OtlpJsonException {
    Map<String, FieldDescriptor> fields = fields(b.getDescriptorForType());
    JsonToken t;
    while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      JsonToken v = p.nextToken();
      FieldDescriptor f = fields.get(name);
      if (f == null) {
        p.skipChildren(); // OTLP receivers must ignore unknown fields
        continue;
      }
      if (v == JsonToken.VALUE_NULL) {
        continue;
      }
      try {
        if (f.isRepeated()) {
          if (v != JsonToken.START_ARRAY) {
            throw new OtlpJsonException("", "expected an array, found " + describe(v));
          }
          int i = 0;
          while (p.nextToken() != JsonToken.END_ARRAY) {
            try {
              b.addRepeatedField(f, readValue(p, f, b));
            } catch (OtlpJsonException e) {
              throw e.under("[" + i + "]");
            }
            i++;
          }
        } else {
          b.setField(f, readValue(p, f, b));
        }
      } catch (OtlpJsonException e) {
        throw e.under(f.getJsonName());
      }
    }
    if (t != JsonToken.END_OBJECT) {
      throw new OtlpJsonException("", "malformed object");
    }
  }

  private static Object readValue(JsonParser p, FieldDescriptor f, Message.Builder parent)
      throws IOException, OtlpJsonException {
    JsonToken t = p.currentToken();
    switch (f.getJavaType()) {
      case MESSAGE -> {
        if (t != JsonToken.START_OBJECT) {
          throw new OtlpJsonException("", "expected an object, found " + describe(t));
        }
        Message.Builder sub = parent.newBuilderForField(f);
        readMessage(p, sub);
        return sub.build();
      }
      case STRING -> {
        if (t != JsonToken.VALUE_STRING) {
          throw new OtlpJsonException("", "expected a string, found " + describe(t));
        }
        return p.getText();
      }
      case BOOLEAN -> {
        if (t == JsonToken.VALUE_TRUE || t == JsonToken.VALUE_FALSE) {
          return t == JsonToken.VALUE_TRUE;
        }
        throw new OtlpJsonException("", "expected true or false, found " + describe(t));
      }
      case INT -> {
        long v = readInteger(p, t, f);
        if (isUnsigned(f) ? (v < 0 || v > 0xFFFF_FFFFL) : (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE)) {
          throw new OtlpJsonException("", "integer out of range for a 32-bit field: " + v);
        }
        return (int) v;
      }
      case LONG -> {
        return readInteger(p, t, f);
      }
      case DOUBLE -> {
        return readDouble(p, t);
      }
      case FLOAT -> {
        return (float) readDouble(p, t);
      }
      case BYTE_STRING -> {
        if (t != JsonToken.VALUE_STRING) {
          throw new OtlpJsonException("", "expected a string, found " + describe(t));
        }
        return isHexId(f) ? hexToBytes(p.getText()) : base64(p.getText());
      }
      case ENUM -> {
        if (t == JsonToken.VALUE_NUMBER_INT) {
          return f.getEnumType().findValueByNumberCreatingIfUnknown(p.getIntValue());
        }
        if (t == JsonToken.VALUE_STRING) {
          EnumValueDescriptor e = f.getEnumType().findValueByName(p.getText());
          if (e == null) {
            throw new OtlpJsonException("", "unknown enum value \"" + p.getText() + "\" for "
                + f.getEnumType().getName() + " (use its integer value)");
          }
          return e;
        }
        throw new OtlpJsonException("", "expected an enum integer, found " + describe(t));
      }
      default -> throw new OtlpJsonException("", "unsupported field type " + f.getJavaType());
    }
  }

  private static boolean isUnsigned(FieldDescriptor f) {
    return switch (f.getType()) {
      case UINT32, FIXED32, UINT64, FIXED64 -> true;
      default -> false;
    };
  }

  private static long readInteger(JsonParser p, JsonToken t, FieldDescriptor f) throws IOException, OtlpJsonException {
    if (t == JsonToken.VALUE_NUMBER_INT) {
      if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
        if (isUnsigned(f)) {
          return parseUnsigned(p.getText());
        }
        throw new OtlpJsonException("", "integer out of range: " + p.getText());
      }
      return p.getLongValue();
    }
    if (t == JsonToken.VALUE_NUMBER_FLOAT) {
      double d = p.getDoubleValue();
      if (d == Math.rint(d) && Math.abs(d) < 0x1p63) {
        return (long) d;
      }
      throw new OtlpJsonException("", "expected an integer, found " + p.getText());
    }
    if (t == JsonToken.VALUE_STRING) {
      String s = p.getText();
      try {
        return isUnsigned(f) ? parseUnsigned(s) : Long.parseLong(s);
      } catch (NumberFormatException e) {
        throw new OtlpJsonException("", "expected an integer (number or decimal string), found \"" + s + "\"");
      }
    }
    throw new OtlpJsonException("", "expected an integer, found " + describe(t));
  }

  private static long parseUnsigned(String s) throws OtlpJsonException {
    try {
      return Long.parseUnsignedLong(s);
    } catch (NumberFormatException e) {
      throw new OtlpJsonException("", "expected an unsigned 64-bit integer, found \"" + s + "\"");
    }
  }

  private static double readDouble(JsonParser p, JsonToken t) throws IOException, OtlpJsonException {
    if (t == JsonToken.VALUE_NUMBER_INT || t == JsonToken.VALUE_NUMBER_FLOAT) {
      return p.getDoubleValue();
    }
    if (t == JsonToken.VALUE_STRING) {
      String s = p.getText();
      switch (s) {
        case "NaN":
          return Double.NaN;
        case "Infinity":
          return Double.POSITIVE_INFINITY;
        case "-Infinity":
          return Double.NEGATIVE_INFINITY;
        default:
          try {
            return Double.parseDouble(s);
          } catch (NumberFormatException e) {
            throw new OtlpJsonException("", "expected a number, found \"" + s + "\"");
          }
      }
    }
    throw new OtlpJsonException("", "expected a number, found " + describe(t));
  }

  /** trace_id, span_id and parent_span_id are hex in OTLP/JSON; every other bytes field is base64. */
  private static boolean isHexId(FieldDescriptor f) {
    String n = f.getName();
    return n.equals("trace_id") || n.equals("span_id") || n.equals("parent_span_id");
  }

  private static ByteString hexToBytes(String s) throws OtlpJsonException {
    if ((s.length() & 1) != 0) {
      throw new OtlpJsonException("", "hex ID has an odd number of digits: \"" + s + "\"");
    }
    byte[] out = new byte[s.length() / 2];
    for (int i = 0; i < out.length; i++) {
      int hi = Character.digit(s.charAt(2 * i), 16);
      int lo = Character.digit(s.charAt(2 * i + 1), 16);
      if (hi < 0 || lo < 0) {
        throw new OtlpJsonException("", "not a hex ID: \"" + s + "\" (OTLP/JSON writes IDs as hex, not base64)");
      }
      out[i] = (byte) ((hi << 4) | lo);
    }
    return ByteString.copyFrom(out);
  }

  private static ByteString base64(String s) throws OtlpJsonException {
    try {
      return ByteString.copyFrom(s.indexOf('-') >= 0 || s.indexOf('_') >= 0
          ? Base64.getUrlDecoder().decode(s) : Base64.getDecoder().decode(s));
    } catch (IllegalArgumentException e) {
      throw new OtlpJsonException("", "not base64: " + e.getMessage());
    }
  }

  private static String describe(JsonToken t) {
    if (t == null) {
      return "end of input";
    }
    return switch (t) {
      case START_OBJECT -> "an object";
      case START_ARRAY -> "an array";
      case VALUE_STRING -> "a string";
      case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
      case VALUE_TRUE, VALUE_FALSE -> "a boolean";
      case VALUE_NULL -> "null";
      default -> t.toString();
    };
  }

  // ---------------------------------------------------------------- writing

  /** Encodes a message as one line of OTLP/JSON (no trailing newline). */
  public static byte[] write(MessageOrBuilder message) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    write(message, out);
    return out.toByteArray();
  }

  /** Encodes a message as OTLP/JSON into a stream (no trailing newline). */
  public static void write(MessageOrBuilder message, OutputStream out) {
    try (JsonGenerator g = FACTORY.createGenerator(out)) {
      writeMessage(g, message);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void writeMessage(JsonGenerator g, MessageOrBuilder m) throws IOException {
    g.writeStartObject();
    for (FieldDescriptor f : m.getDescriptorForType().getFields()) {
      if (f.isRepeated()) {
        int n = m.getRepeatedFieldCount(f);
        if (n == 0) {
          continue;
        }
        g.writeFieldName(f.getJsonName());
        g.writeStartArray();
        for (int i = 0; i < n; i++) {
          writeValue(g, f, m.getRepeatedField(f, i));
        }
        g.writeEndArray();
      } else if (f.hasPresence()) {
        if (m.hasField(f)) {
          g.writeFieldName(f.getJsonName());
          writeValue(g, f, m.getField(f));
        }
      } else {
        Object v = m.getField(f);
        if (!isDefault(f, v)) {
          g.writeFieldName(f.getJsonName());
          writeValue(g, f, v);
        }
      }
    }
    g.writeEndObject();
  }

  private static boolean isDefault(FieldDescriptor f, Object v) {
    return switch (f.getJavaType()) {
      case INT -> (Integer) v == 0;
      case LONG -> (Long) v == 0L;
      case DOUBLE -> Double.doubleToRawLongBits((Double) v) == 0L;
      case FLOAT -> Float.floatToRawIntBits((Float) v) == 0;
      case BOOLEAN -> !(Boolean) v;
      case STRING -> ((String) v).isEmpty();
      case BYTE_STRING -> ((ByteString) v).isEmpty();
      case ENUM -> ((EnumValueDescriptor) v).getNumber() == 0;
      case MESSAGE -> false;
    };
  }

  private static void writeValue(JsonGenerator g, FieldDescriptor f, Object v) throws IOException {
    switch (f.getJavaType()) {
      case MESSAGE -> writeMessage(g, (MessageOrBuilder) v);
      case STRING -> g.writeString((String) v);
      case BOOLEAN -> g.writeBoolean((Boolean) v);
      case INT -> {
        int i = (Integer) v;
        if (isUnsigned(f)) {
          g.writeNumber(Integer.toUnsignedLong(i));
        } else {
          g.writeNumber(i);
        }
      }
      case LONG -> {
        long l = (Long) v;
        g.writeString(isUnsigned(f) ? Long.toUnsignedString(l) : Long.toString(l));
      }
      case DOUBLE -> writeDouble(g, (Double) v);
      case FLOAT -> writeDouble(g, (Float) v);
      case ENUM -> g.writeNumber(((EnumValueDescriptor) v).getNumber());
      case BYTE_STRING -> {
        ByteString b = (ByteString) v;
        g.writeString(isHexId(f) ? toHex(b) : Base64.getEncoder().encodeToString(b.toByteArray()));
      }
    }
  }

  private static void writeDouble(JsonGenerator g, double d) throws IOException {
    if (Double.isNaN(d)) {
      g.writeString("NaN");
    } else if (Double.isInfinite(d)) {
      g.writeString(d > 0 ? "Infinity" : "-Infinity");
    } else {
      g.writeNumber(d);
    }
  }

  private static final char[] HEX = "0123456789abcdef".toCharArray();

  /** Lower-case hex of an ID, as OTLP/JSON writes trace and span IDs. */
  public static String toHex(ByteString b) {
    char[] out = new char[b.size() * 2];
    for (int i = 0; i < b.size(); i++) {
      int v = b.byteAt(i) & 0xFF;
      out[2 * i] = HEX[v >>> 4];
      out[2 * i + 1] = HEX[v & 0xF];
    }
    return new String(out);
  }
}
