package dev.telemetry.gateway.processor.sampling;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.UnsafeByteOperations;
import com.google.protobuf.WireFormat;
import dev.telemetry.gateway.processor.EncodedSpanProcessor;
import io.opentelemetry.proto.common.v1.InstrumentationScope;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

/**
 * An encoded ExportTraceServiceRequest read into buffer entries without decoding its spans: each span keeps the bytes
 * it arrived in (they are what {@link Trace.Entry#of} would have encoded: the sender encoded them the same way) and
 * only the facts policies read are taken from the wire. Resources and scopes, a few per request, are parsed. What a
 * member forwards to a trace's owner is read this way (decoding and re-encoding each span was most of what
 * forwarding cost), and so is what clients send to a pipeline that takes traces encoded, through its processors'
 * {@link EncodedSpanProcessor}s: then most spans are never decoded at all (only the kept ones, at export).
 */
public final class EncodedSpans {
  private static final int LEN = WireFormat.WIRETYPE_LENGTH_DELIMITED;
  // ResourceSpans / ScopeSpans: 1 resource or scope, 2 scope_spans or spans, 3 schema_url.
  private static final int FIRST = 1 << 3 | LEN;
  private static final int SECOND = 2 << 3 | LEN;
  private static final int SCHEMA_URL = 3 << 3 | LEN;
  // Span (opentelemetry/proto/trace/v1/trace.proto).
  private static final int TRACE_ID = 1 << 3 | LEN;
  private static final int SPAN_ID = 2 << 3 | LEN;
  private static final int TRACE_STATE = 3 << 3 | LEN;
  private static final int PARENT_SPAN_ID = 4 << 3 | LEN;
  private static final int NAME = 5 << 3 | LEN;
  private static final int KIND = 6 << 3 | WireFormat.WIRETYPE_VARINT;
  private static final int START = 7 << 3 | WireFormat.WIRETYPE_FIXED64;
  private static final int END = 8 << 3 | WireFormat.WIRETYPE_FIXED64;
  private static final int ATTRIBUTE = 9 << 3 | LEN;
  private static final int STATUS = 15 << 3 | LEN;
  private static final int FLAGS = 16 << 3 | WireFormat.WIRETYPE_FIXED32;
  // Status: 3 code. KeyValue: 1 key.
  private static final int STATUS_CODE = 3 << 3 | WireFormat.WIRETYPE_VARINT;
  private static final int KEY = 1 << 3 | LEN;

  final List<Incoming> spans;
  final Destination destination;
  final int encodedBytes;

  private EncodedSpans(List<Incoming> spans, Destination destination, int encodedBytes) {
    this.spans = spans;
    this.destination = destination;
    this.encodedBytes = encodedBytes;
  }

  /** How many spans. */
  public int spanCount() {
    return spans.size();
  }

  /** True when every span's trace ID passes {@code test} (asked once per run of spans of one trace). */
  public boolean allTraces(Predicate<ByteString> test) {
    ByteString last = null;
    for (Incoming in : spans) {
      if (!in.traceId().equals(last)) {
        last = in.traceId();
        if (!test.test(last)) {
          return false;
        }
      }
    }
    return true;
  }

  /**
   * Reads {@code request}; a span keeps the attributes named in {@code keys} (all when null) and its name when
   * {@code keepName}, as {@link Trace.Entry#of} does.
   */
  static EncodedSpans read(ByteString request, Set<String> keys, boolean keepName, Destination destination)
      throws InvalidProtocolBufferException {
    return read(request, keys, keepName, destination, List.of(), false);
  }

  /**
   * As {@link #read(ByteString, Set, boolean, Destination)}, each span and resource first passed through
   * {@code processors} in order. With {@code validate} (a request as a client sent it): null when a span has an ID
   * no backend can use — decode that request instead, and the receiver's validation rejects those spans alone.
   */
  static EncodedSpans read(ByteString request, Set<String> keys, boolean keepName, Destination destination,
                           List<EncodedSpanProcessor> processors, boolean validate)
      throws InvalidProtocolBufferException {
    Reader r = new Reader(keys, keepName, destination, processors, validate);
    try {
      CodedInputStream in = request.newCodedInput();
      in.enableAliasing(true); // the groups are read and let go; each span is copied out (or rewritten) alone
      int t;
      while ((t = in.readTag()) != 0) {
        if (t == FIRST) {
          int limit = in.pushLimit(in.readRawVarint32());
          if (!r.resourceSpans(in)) {
            return null;
          }
          in.popLimit(limit);
        } else {
          in.skipField(t);
        }
      }
    } catch (InvalidProtocolBufferException e) {
      throw e;
    } catch (IOException e) {
      throw new InvalidProtocolBufferException(e);
    }
    return new EncodedSpans(r.out, destination, request.size());
  }

  /** One read's state: what policies keep of each span, and the spans read so far. */
  private static final class Reader {
    private final Set<String> keys;
    private final byte[][] keyBytes;
    private final boolean keepName;
    private final Destination destination;
    private final List<EncodedSpanProcessor> processors;
    private final boolean validate;
    final List<Incoming> out = new ArrayList<>();

    Reader(Set<String> keys, boolean keepName, Destination destination, List<EncodedSpanProcessor> processors,
           boolean validate) {
      this.keys = keys;
      this.keepName = keepName;
      this.destination = destination;
      this.processors = processors;
      this.validate = validate;
      this.keyBytes = keys == null ? null : keys.stream().map(k -> k.getBytes(StandardCharsets.UTF_8))
          .toArray(byte[][]::new);
    }

    /** False when validating and a span is invalid. */
    boolean resourceSpans(CodedInputStream in) throws IOException {
      Group<Resource> rs = group(in, Resource.getDefaultInstance());
      Resource resource = rs.head();
      for (EncodedSpanProcessor p : processors) {
        resource = p.resource(resource);
      }
      for (ByteString scopeSpans : rs.children()) {
        CodedInputStream scopeIn = scopeSpans.newCodedInput();
        scopeIn.enableAliasing(true);
        Group<InstrumentationScope> ss = group(scopeIn, InstrumentationScope.getDefaultInstance());
        for (ByteString span : ss.children()) {
          ByteString processed = span;
          for (EncodedSpanProcessor p : processors) {
            processed = p.span(processed);
          }
          // Kept for seconds in the buffer: bytes of its own, not a view of the whole request's.
          ByteString own = processed == span ? UnsafeByteOperations.unsafeWrap(span.toByteArray()) : processed;
          if (!span(own, resource, rs.schemaUrl(), ss.head(), ss.schemaUrl())) {
            return false;
          }
        }
      }
      return true;
    }

    /** A ResourceSpans or ScopeSpans: its resource or scope, schema URL, and its children still encoded. */
    private record Group<M>(M head, String schemaUrl, List<ByteString> children) {
    }

    /**
     * Reads a ResourceSpans or ScopeSpans (the same layout: 1 the resource or scope, 2 the children, 3 schema_url).
     * The head and schema URL may follow the children on the wire, so the children are read only afterwards.
     */
    @SuppressWarnings("unchecked")
    private static <M extends Message> Group<M> group(CodedInputStream in, M empty) throws IOException {
      Message.Builder head = null;
      String schemaUrl = "";
      List<ByteString> children = new ArrayList<>();
      int t;
      while ((t = in.readTag()) != 0) {
        switch (t) {
          case FIRST -> head = (head == null ? empty.toBuilder() : head).mergeFrom(in.readBytes());
          case SECOND -> children.add(in.readBytes());
          case SCHEMA_URL -> schemaUrl = in.readStringRequireUtf8();
          default -> in.skipField(t);
        }
      }
      return new Group<>(head == null ? empty : (M) head.build(), schemaUrl, children);
    }

    private boolean span(ByteString encoded, Resource resource, String resourceSchemaUrl, InstrumentationScope scope,
                         String scopeSchemaUrl) throws IOException {
      CodedInputStream in = encoded.newCodedInput();
      ByteString traceId = ByteString.EMPTY;
      int spanIdSize = 0;
      boolean spanIdZero = true;
      int parentSize = 0;
      String traceState = "";
      String name = "";
      int kind = 0;
      int status = 0;
      int flags = 0;
      long start = 0;
      long end = 0;
      List<KeyValue> attributes = keys == null || !keys.isEmpty() ? new ArrayList<>(2) : List.of();
      int t;
      while ((t = in.readTag()) != 0) {
        switch (t) {
          case TRACE_ID -> traceId = in.readBytes();
          case SPAN_ID -> {
            if (validate) {
              byte[] id = in.readByteArray();
              spanIdSize = id.length;
              spanIdZero = allZero(id);
            } else {
              in.skipField(t);
            }
          }
          case PARENT_SPAN_ID -> {
            if (validate) {
              parentSize = in.readRawVarint32();
              in.skipRawBytes(parentSize);
            } else {
              in.skipField(t);
            }
          }
          case TRACE_STATE -> traceState = in.readStringRequireUtf8();
          case NAME -> {
            if (keepName) {
              name = in.readStringRequireUtf8();
            } else {
              in.skipField(t);
            }
          }
          case KIND -> kind = in.readEnum();
          case START -> start = in.readFixed64();
          case END -> end = in.readFixed64();
          case FLAGS -> flags = in.readFixed32();
          case STATUS -> {
            int limit = in.pushLimit(in.readRawVarint32());
            status = statusCode(in, status);
            in.popLimit(limit);
          }
          case ATTRIBUTE -> {
            if (keys != null && keys.isEmpty()) {
              in.skipField(t);
            } else {
              ByteString kv = in.readBytes();
              if (keys == null || wanted(kv)) {
                attributes.add(KeyValue.parseFrom(kv));
              }
            }
          }
          default -> in.skipField(t);
        }
      }
      if (validate && (traceId.size() != 16 || allZero(traceId) || spanIdSize != 8 || spanIdZero
          || parentSize != 0 && parentSize != 8)) {
        return false; // the rules of OtlpValidator, which rejects such a span alone
      }
      if (attributes.isEmpty()) {
        attributes = List.of();
      }
      out.add(new Incoming(traceId, new Trace.Entry(resource, resourceSchemaUrl, scope, scopeSchemaUrl, encoded,
          keepName ? name : null, Trace.Entry.facts(status, kind, flags), start, end, traceState, attributes,
          TailSampler.charge(encoded.size()), destination)));
      return true;
    }

    private static boolean allZero(byte[] id) {
      for (byte x : id) {
        if (x != 0) {
          return false;
        }
      }
      return true;
    }

    private static boolean allZero(ByteString id) {
      for (int i = 0; i < id.size(); i++) {
        if (id.byteAt(i) != 0) {
          return false;
        }
      }
      return true;
    }

    /** A status's code (a later occurrence of the field overrides, as protobuf merges messages). */
    private static int statusCode(CodedInputStream in, int code) throws IOException {
      int t;
      while ((t = in.readTag()) != 0) {
        if (t == STATUS_CODE) {
          code = in.readEnum();
        } else {
          in.skipField(t);
        }
      }
      return code;
    }

    /** Whether an encoded KeyValue's key is one of {@code keys}, compared as bytes (no string per attribute). */
    private boolean wanted(ByteString kv) throws IOException {
      CodedInputStream in = kv.newCodedInput();
      byte[] key = null;
      int t;
      while ((t = in.readTag()) != 0) {
        if (t == KEY) {
          key = in.readByteArray(); // the last occurrence wins, as when parsing
        } else {
          in.skipField(t);
        }
      }
      if (key == null) {
        return keys.contains("");
      }
      for (byte[] k : keyBytes) {
        if (java.util.Arrays.equals(k, key)) {
          return true;
        }
      }
      return false;
    }
  }
}
