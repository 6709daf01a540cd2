package dev.telemetry.gateway.processor.redaction;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.UnsafeByteOperations;
import com.google.protobuf.WireFormat;
import io.opentelemetry.proto.common.v1.KeyValue;
import java.io.IOException;
import java.util.Arrays;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * Blocked-key redaction of a span still encoded: the attributes of the span, its events and its links are found on
 * the wire, only those whose key is blocked are decoded and replaced (or left out), and every other byte is copied
 * as it came. A span with no blocked key is returned as it is, without a copy.
 */
final class EncodedRedaction {
  private static final int LEN = WireFormat.WIRETYPE_LENGTH_DELIMITED;
  // Span (opentelemetry/proto/trace/v1/trace.proto): 9 attributes, 11 events, 13 links; Event: 3 attributes; Link:
  // 4 attributes; KeyValue: 1 key.
  private static final int SPAN_ATTRIBUTES = 9 << 3 | LEN;
  private static final int EVENTS = 11 << 3 | LEN;
  private static final int LINKS = 13 << 3 | LEN;
  private static final int EVENT_ATTRIBUTES = 3 << 3 | LEN;
  private static final int LINK_ATTRIBUTES = 4 << 3 | LEN;
  private static final int KEY = 1 << 3 | LEN;
  private static final int VALUE = 2 << 3 | LEN;

  private final Predicate<String> blocked;
  private final UnaryOperator<KeyValue> redact;
  /**
   * Verdicts by the key's bytes, direct-mapped on its length and three of its bytes: a span's attribute keys are a
   * few that repeat, found without hashing whole keys or making strings; a miss asks the processor (by string).
   */
  private static final int SLOTS = 256;
  private final Verdict[] verdicts = new Verdict[SLOTS];

  /** {@code redact}: a blocked attribute as it leaves, or null to leave it out. */
  EncodedRedaction(Predicate<String> blocked, UnaryOperator<KeyValue> redact) {
    this.blocked = blocked;
    this.redact = redact;
  }

  ByteString span(ByteString span) throws IOException {
    return message(span, SPAN_ATTRIBUTES, true);
  }

  /** {@code m} with its attributes (field tag {@code attributes}) redacted, and for a span its events' and links'. */
  private ByteString message(ByteString m, int attributes, boolean span) throws IOException {
    CodedInputStream in = m.newCodedInput();
    in.enableAliasing(true); // fields are looked at and let go; the output is a copy
    byte[] out = null;
    int written = 0;
    int copied = 0; // m's bytes before this offset are in out (or replaced there)
    while (true) {
      int start = in.getTotalBytesRead();
      int t = in.readTag();
      if (t == 0) {
        break;
      }
      byte[] replacement;
      if (t == attributes) {
        ByteString kv = in.readBytes();
        if (!isBlocked(kv)) {
          continue;
        }
        KeyValue redacted = redact.apply(KeyValue.parseFrom(kv));
        replacement = redacted == null ? new byte[0] : field(t, redacted.toByteString());
      } else if (span && (t == EVENTS || t == LINKS)) {
        ByteString child = in.readBytes();
        ByteString redacted = message(child, t == EVENTS ? EVENT_ATTRIBUTES : LINK_ATTRIBUTES, false);
        if (redacted == child) {
          continue;
        }
        replacement = field(t, redacted);
      } else {
        in.skipField(t);
        continue;
      }
      if (out == null) {
        out = new byte[m.size() + 64];
      }
      int end = in.getTotalBytesRead();
      out = ensure(out, written, (start - copied) + replacement.length);
      m.copyTo(out, copied, written, start - copied);
      written += start - copied;
      System.arraycopy(replacement, 0, out, written, replacement.length);
      written += replacement.length;
      copied = end;
    }
    if (out == null) {
      return m;
    }
    out = ensure(out, written, m.size() - copied);
    m.copyTo(out, copied, written, m.size() - copied);
    written += m.size() - copied;
    return UnsafeByteOperations.unsafeWrap(Arrays.copyOf(out, written));
  }

  /**
   * Whether an encoded KeyValue's key is blocked. Keys repeat from span to span, so verdicts are kept by the key's
   * bytes (no string per attribute; a fixed table, so invented keys cannot grow it); a KeyValue not laid out as
   * encoders write it (key, then value, each once) takes the general path.
   */
  private boolean isBlocked(ByteString kv) throws IOException {
    ByteString key = plainKey(kv);
    if (key == null) {
      return blocked.test(key(kv));
    }
    int n = key.size();
    int slot = n == 0 ? 0 : (n * 31 + key.byteAt(0) * 7 + key.byteAt(n - 1) + key.byteAt(n >> 1) * 131)
        & (SLOTS - 1);
    Verdict known = verdicts[slot];
    if (known != null && known.key.equals(key)) {
      return known.blocked;
    }
    boolean verdict = blocked.test(key.toStringUtf8()); // the processor's own cache, by string
    verdicts[slot] = new Verdict(ByteString.copyFrom(key.toByteArray()), verdict); // not a view of the request
    return verdict;
  }

  /** A key's verdict; a slot is replaced whole, so a reader on another thread sees an old one or a new one. */
  private record Verdict(ByteString key, boolean blocked) {
  }

  /**
   * The key's bytes when {@code kv} is a key field (shorter than 128 bytes) followed by at most one value field that
   * runs to the end — how every encoder writes a KeyValue — else null.
   */
  private static ByteString plainKey(ByteString kv) {
    int n = kv.size();
    if (n < 2 || kv.byteAt(0) != KEY) {
      return null;
    }
    int keyLength = kv.byteAt(1);
    int end = 2 + keyLength;
    if (keyLength < 0 || end > n) {
      return null; // a length of two bytes or more, or a truncated key: the general path decides
    }
    if (end < n) {
      // One value field (tag 0x12) whose length runs exactly to the end: then no second key can follow.
      if (kv.byteAt(end) != VALUE) {
        return null;
      }
      long length = 0;
      int shift = 0;
      int i = end + 1;
      while (true) {
        if (i >= n || shift > 28) {
          return null;
        }
        byte b = kv.byteAt(i++);
        length |= (long) (b & 0x7f) << shift;
        if (b >= 0) {
          break;
        }
        shift += 7;
      }
      if (i + length != n) {
        return null;
      }
    }
    return kv.substring(2, end);
  }

  /** An encoded KeyValue's key ("" when absent; the last occurrence wins, as when decoding). */
  private static String key(ByteString kv) throws IOException {
    CodedInputStream in = kv.newCodedInput();
    String key = "";
    int t;
    while ((t = in.readTag()) != 0) {
      if (t == KEY) {
        key = in.readStringRequireUtf8();
      } else {
        in.skipField(t);
      }
    }
    return key;
  }

  /** A length-delimited field: tag, length, bytes. */
  private static byte[] field(int tag, ByteString value) throws IOException {
    byte[] b = new byte[CodedOutputStream.computeUInt32SizeNoTag(tag)
        + CodedOutputStream.computeUInt32SizeNoTag(value.size()) + value.size()];
    CodedOutputStream o = CodedOutputStream.newInstance(b);
    o.writeUInt32NoTag(tag);
    o.writeBytesNoTag(value);
    o.flush();
    return b;
  }

  private static byte[] ensure(byte[] out, int written, int more) {
    return written + more <= out.length ? out : Arrays.copyOf(out, Math.max(out.length * 2, written + more));
  }
}
