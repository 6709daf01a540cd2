package dev.telemetry.gateway.otlp;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.ArrayValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.common.v1.KeyValueList;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A pass over an encoded OTLP request, before it is decoded, that allocates nothing: it enforces the item caps
 * (attributes per item, resource or scope; entries per array or map value; nesting of values) and counts what
 * decoding would allocate — messages and strings — so that the heap is charged for a request of ten million empty
 * attributes as for what it is, not as for its size. Driven by the protobuf descriptors, so every OTLP message is
 * covered. Groups (wire types 3 and 4, unused by OTLP) and strings that are not valid UTF-8 are refused, as decoding
 * would refuse them: a request that passes can be taken without decoding it.
 */
public final class WireScan {
  private static final int MAX_MESSAGE_DEPTH = 100; // protobuf-java's own recursion limit

  /** The caps; see the receiver's {@code limits}. */
  public record Limits(int maxAttributes, int maxArrayLength, int maxValueDepth) {
  }

  /** What decoding the request will allocate: messages and length-delimited scalars (strings, bytes, packed). */
  public record Shape(long messages, long scalars) {
    /** A conservative estimate of the decoded request's heap: object headers, fields and list slots. */
    public long heapBytes(long encodedBytes) {
      return messages * 72 + scalars * 48 + encodedBytes * 2;
    }
  }

  /** A cap was passed, or the bytes are not a protobuf message; the message says where (a field path) and why. */
  public static final class Refused extends Exception {
    private final boolean limit;
    private final String path;
    private final String problem;

    Refused(String path, String problem, boolean limit) {
      super(path.isEmpty() ? problem : path + ": " + problem, null, false, false);
      this.path = path;
      this.problem = problem;
      this.limit = limit;
    }

    /** True for a cap (the request is well-formed but too big in one place), false for malformed bytes. */
    public boolean limit() {
      return limit;
    }

    Refused under(String step) {
      return new Refused(path.isEmpty() ? step : step + "." + path, problem, limit);
    }
  }

  /** Per message type, indexed by field number: the field's message type (null for scalars). */
  private record Table(Descriptor type, Table[] children, boolean[] present, boolean[] utf8, int countedField,
                       boolean anyValue) {
  }

  private static final Map<Descriptor, Table> TABLES = new ConcurrentHashMap<>();
  private static final Descriptor ANY_VALUE = AnyValue.getDescriptor();

  private final byte[] b;
  private final Limits limits;
  private long messages;
  private long scalars;
  private int pos;

  private WireScan(byte[] b, Limits limits) {
    this.b = b;
    this.limits = limits;
  }

  public static Shape scan(Descriptor root, byte[] bytes, Limits limits) throws Refused {
    WireScan s = new WireScan(bytes, limits);
    s.message(table(root), bytes.length, 0, 0);
    return new Shape(s.messages, s.scalars);
  }

  private static Table table(Descriptor d) {
    Table t = TABLES.get(d);
    if (t != null) {
      return t;
    }
    int max = 0;
    for (FieldDescriptor f : d.getFields()) {
      max = Math.max(max, f.getNumber());
    }
    Table[] children = new Table[max + 1];
    boolean[] present = new boolean[max + 1];
    boolean[] utf8 = new boolean[max + 1];
    int counted = -1;
    for (FieldDescriptor f : d.getFields()) {
      present[f.getNumber()] = true;
      utf8[f.getNumber()] = f.getType() == FieldDescriptor.Type.STRING;
      if (f.isRepeated() && f.getJavaType() == FieldDescriptor.JavaType.MESSAGE
          && (f.getMessageType() == KeyValue.getDescriptor() && f.getName().endsWith("attributes")
              || d == ArrayValue.getDescriptor() || d == KeyValueList.getDescriptor())) {
        counted = f.getNumber();
      }
    }
    t = new Table(d, children, present, utf8, counted, d == ANY_VALUE);
    TABLES.put(d, t); // before the children: message types are recursive (AnyValue → ArrayValue → AnyValue)
    for (FieldDescriptor f : d.getFields()) {
      if (f.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
        children[f.getNumber()] = table(f.getMessageType());
      }
    }
    return t;
  }

  private void message(Table t, int end, int depth, int valueDepth) throws Refused {
    messages++;
    if (depth > MAX_MESSAGE_DEPTH) {
      throw new Refused("", "messages nested more than " + MAX_MESSAGE_DEPTH + " deep", false);
    }
    if (t.anyValue && ++valueDepth > limits.maxValueDepth()) {
      throw new Refused("", "values nested more than " + limits.maxValueDepth() + " deep (limits.max_value_depth)",
          true);
    }
    int start = pos;
    int counted = 0;
    while (pos < end) {
      int tag = varint(end);
      int field = tag >>> 3;
      switch (tag & 7) {
        case 0 -> skipVarint(end);
        case 1 -> skip(8, end);
        case 5 -> skip(4, end);
        case 2 -> {
          int len = varint(end);
          int from = pos;
          skip(len, end);
          int next = pos;
          Table child = field < t.children.length ? t.children[field] : null;
          if (child != null) {
            if (field == t.countedField && ++counted > cap(t)) {
              throw new Refused(fieldName(t, field), "more than " + cap(t) + " entries (limits." + capName(t) + ")",
                  true);
            }
            pos = from;
            try {
              message(child, next, depth + 1, valueDepth);
            } catch (Refused r) {
              throw r.under(fieldName(t, field) + (isRepeated(t, field) ? "[" + occurrences(start, from, field) + "]"
                  : ""));
            }
          } else {
            scalars++;
            if (field < t.utf8.length && t.utf8[field]
                && !com.google.protobuf.UnsafeByteOperations.unsafeWrap(b, from, next - from).isValidUtf8()) {
              // What decoding refuses too; checked here so that a request taken still encoded is held to it.
              throw new Refused(fieldName(t, field), "a string that is not valid UTF-8", false);
            }
          }
        }
        default -> throw new Refused("", "wire type " + (tag & 7) + " (groups are not used by OTLP)", false);
      }
    }
  }

  /**
   * A tag or a length as protobuf reads them: up to 10 bytes, of which the low 32 bits count (a negative length is
   * then malformed, as protobuf says too).
   */
  private int varint(int end) throws Refused {
    int value = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      if (pos >= end) {
        break;
      }
      byte x = b[pos++];
      if (shift < 32) {
        value |= (x & 0x7f) << shift;
      }
      if (x >= 0 || shift == 63) { // protobuf's fast path ends a varint at its tenth byte, whatever its top bit
        return value;
      }
    }
    throw malformed();
  }

  private void skipVarint(int end) throws Refused {
    for (int n = 0; n < 10 && pos < end; n++) {
      if (b[pos++] >= 0 || n == 9) {
        return;
      }
    }
    throw malformed();
  }

  private void skip(long n, int end) throws Refused {
    if (n < 0 || n > end - pos) {
      throw malformed();
    }
    pos += (int) n;
  }

  private static boolean arrayLike(Table t) {
    return t.type == ArrayValue.getDescriptor() || t.type == KeyValueList.getDescriptor();
  }

  private int cap(Table t) {
    return arrayLike(t) ? limits.maxArrayLength() : limits.maxAttributes();
  }

  private static String capName(Table t) {
    return arrayLike(t) ? "max_array_length" : "max_attributes";
  }

  private static boolean isRepeated(Table t, int field) {
    FieldDescriptor f = t.type.findFieldByNumber(field);
    return f != null && f.isRepeated();
  }

  /**
   * Only on a refusal: how many elements of {@code field} precede the one at {@code upTo} (its index in the list),
   * counted by scanning the message again from {@code start} (those bytes were read once already, so they parse).
   */
  private int occurrences(int start, int upTo, int field) throws Refused {
    int saved = pos;
    pos = start;
    int n = 0;
    while (pos < upTo) {
      int tag = varint(upTo);
      switch (tag & 7) {
        case 0 -> skipVarint(upTo);
        case 1 -> skip(8, upTo);
        case 5 -> skip(4, upTo);
        default -> {
          int len = varint(upTo);
          if (pos == upTo) {
            break; // the failing element itself
          }
          skip(len, upTo);
          if (tag >>> 3 == field) {
            n++;
          }
        }
      }
    }
    pos = saved;
    return n;
  }

  private static String fieldName(Table t, int field) {
    FieldDescriptor f = t.type.findFieldByNumber(field);
    return f == null ? "field " + field : f.getName();
  }

  private static Refused malformed() {
    return new Refused("", "truncated or malformed protobuf", false);
  }
}
