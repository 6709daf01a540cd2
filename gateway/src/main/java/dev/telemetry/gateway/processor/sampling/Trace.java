package dev.telemetry.gateway.processor.sampling;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.InstrumentationScope;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.Span;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The buffered spans of one trace. Each span is kept **encoded**, next to the few facts the policies read (status,
 * times, trace state, the attributes that policies name): a parsed span costs about five times its encoded size on
 * the heap, and the sampler holds decision_wait × rate of them. Only kept traces are parsed again.
 */
final class Trace {
  /**
   * One span: where it came from, its bytes, the facts policies need, and where it goes if its trace is kept (spans
   * of one trace may have been routed to different exporters).
   */
  record Entry(Resource resource, String resourceSchemaUrl, InstrumentationScope scope, String scopeSchemaUrl,
               ByteString encoded, String name, int facts, long startNanos, long endNanos, String traceState,
               List<KeyValue> attributes, long bytes, Destination destination) {

    /**
     * Status code, span kind and the low 16 bits of the span's flags (W3C trace flags and the remote-parent bits) in
     * one int: a buffered span's heap is what bounds how many the sampler holds.
     */
    static int facts(int statusCode, int kind, int flags) {
      return (statusCode & 0xF) | (kind & 0xF) << 4 | (flags & 0xFFFF) << 16;
    }

    int statusCode() {
      return facts & 0xF;
    }

    int kind() {
      return facts >>> 4 & 0xF;
    }

    int flags() {
      return facts >>> 16;
    }

    /**
     * Keeps the span's attributes whose key is in {@code keys} (all when {@code keys} is null), and its name only
     * when {@code keepName} (a policy reads it): names are the largest fact and most policies never look.
     */
    static Entry of(Resource resource, String resourceSchemaUrl, InstrumentationScope scope, String scopeSchemaUrl,
                    Span span, Set<String> keys, boolean keepName, long bytes, Destination destination) {
      List<KeyValue> attrs;
      if (keys == null) {
        attrs = span.getAttributesList();
      } else if (keys.isEmpty()) {
        attrs = List.of();
      } else {
        attrs = new ArrayList<>(2);
        for (KeyValue kv : span.getAttributesList()) {
          if (keys.contains(kv.getKey())) {
            attrs.add(kv);
          }
        }
        attrs = attrs.isEmpty() ? List.of() : attrs;
      }
      return new Entry(resource, resourceSchemaUrl, scope, scopeSchemaUrl, span.toByteString(),
          keepName ? span.getName() : null, facts(span.getStatus().getCodeValue(), span.getKindValue(),
          span.getFlags()), span.getStartTimeUnixNano(), span.getEndTimeUnixNano(), span.getTraceState(), attrs, bytes,
          destination);
    }

    Span span() {
      try {
        return Span.parseFrom(encoded);
      } catch (InvalidProtocolBufferException e) {
        throw new IllegalStateException("a buffered span no longer parses", e); // we encoded it ourselves
      }
    }
  }

  final ByteString traceId;
  final List<Entry> entries = new ArrayList<>(4);
  final long deadlineNanos;
  long bytes;
  /** With a sampler journal: the records holding this trace's spans (each holds the trace once); else null. */
  long[] records;
  int recordCount;
  /** The encodings of its spans, once two copies of a span may arrive (taken over from replicas); else null. */
  java.util.Set<ByteString> seen;

  Trace(ByteString traceId, long deadlineNanos) {
    this.traceId = traceId;
    this.deadlineNanos = deadlineNanos;
  }

  void add(Entry e) {
    entries.add(e);
    bytes += e.bytes();
    if (seen != null) {
      seen.add(e.encoded());
    }
  }

  /** From now on a span whose encoding the trace already has is a duplicate. */
  void dedupe() {
    if (seen == null) {
      seen = new java.util.HashSet<>();
      for (Entry e : entries) {
        seen.add(e.encoded());
      }
    }
  }

  /** Notes that journal record {@code seq} has spans of this trace; false if it was noted already. */
  boolean heldBy(long seq) {
    if (recordCount > 0 && records[recordCount - 1] == seq) {
      return false; // one insert is one record, and records arrive in order: only the last can repeat
    }
    if (records == null) {
      records = new long[2];
    } else if (recordCount == records.length) {
      records = java.util.Arrays.copyOf(records, recordCount * 2);
    }
    records[recordCount++] = seq;
    return true;
  }

  /** The journal records holding this trace (empty without a journal). */
  long[] records() {
    return records == null ? new long[0] : java.util.Arrays.copyOf(records, recordCount);
  }

  int spanCount() {
    return entries.size();
  }

  /** The spans' encoded size (what an exporter sends, before batching and compression). */
  long encodedBytes() {
    long n = 0;
    for (Entry e : entries) {
      n += e.encoded().size();
    }
    return n;
  }

  /** Latest end minus earliest start, in nanoseconds. */
  long durationNanos() {
    long start = Long.MAX_VALUE;
    long end = Long.MIN_VALUE;
    for (Entry e : entries) {
      start = Math.min(start, e.startNanos());
      end = Math.max(end, e.endNanos());
    }
    return entries.isEmpty() ? 0 : Math.max(0, end - start);
  }

  /** Every value of the attribute on any span, or on any span's resource. */
  List<AnyValue> attributeValues(String key) {
    List<AnyValue> out = new ArrayList<>(2);
    for (Entry e : entries) {
      for (KeyValue kv : e.attributes()) {
        if (kv.getKey().equals(key)) {
          out.add(kv.getValue());
        }
      }
      for (KeyValue kv : e.resource().getAttributesList()) {
        if (kv.getKey().equals(key)) {
          out.add(kv.getValue());
        }
      }
    }
    return out;
  }
}
