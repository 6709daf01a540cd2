package dev.telemetry.gateway.processor.sampling;

import com.google.protobuf.ByteString;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A span on its way into the sampler's buffer: its trace ID and its buffer entry (encoded, with its facts). */
record Incoming(ByteString traceId, Trace.Entry entry) {
  /** Grouped by trace ID, in order of first appearance (the journal writes one record per group). */
  static List<List<Incoming>> byTrace(List<Incoming> spans) {
    if (spans.isEmpty()) {
      return List.of();
    }
    ByteString first = spans.get(0).traceId();
    if (spans.stream().allMatch(s -> s.traceId().equals(first))) {
      return List.of(spans);
    }
    Map<ByteString, List<Incoming>> groups = new LinkedHashMap<>();
    for (Incoming s : spans) {
      groups.computeIfAbsent(s.traceId(), k -> new ArrayList<>()).add(s);
    }
    return new ArrayList<>(groups.values());
  }
}
