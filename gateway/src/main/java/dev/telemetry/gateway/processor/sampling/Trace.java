package dev.telemetry.gateway.processor.sampling;

import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.InstrumentationScope;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.Span;
import java.util.ArrayList;
import java.util.List;

/** The buffered spans of one trace, each with its resource and scope, plus what the sampler needs to schedule it. */
final class Trace {
  /** One span with where it came from. */
  record Entry(Resource resource, String resourceSchemaUrl, InstrumentationScope scope, String scopeSchemaUrl,
               Span span, long bytes) {
  }

  final List<Entry> entries = new ArrayList<>(4);
  final long deadlineNanos;
  long bytes;

  Trace(long deadlineNanos) {
    this.deadlineNanos = deadlineNanos;
  }

  void add(Entry e) {
    entries.add(e);
    bytes += e.bytes();
  }

  int spanCount() {
    return entries.size();
  }

  /** Latest end minus earliest start, in nanoseconds. */
  long durationNanos() {
    long start = Long.MAX_VALUE;
    long end = Long.MIN_VALUE;
    for (Entry e : entries) {
      start = Math.min(start, e.span().getStartTimeUnixNano());
      end = Math.max(end, e.span().getEndTimeUnixNano());
    }
    return entries.isEmpty() ? 0 : Math.max(0, end - start);
  }

  /** Every value of the attribute on any span, or on any span's resource. */
  List<AnyValue> attributeValues(String key) {
    List<AnyValue> out = new ArrayList<>(2);
    for (Entry e : entries) {
      for (KeyValue kv : e.span().getAttributesList()) {
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
